/**
 * Open311 GeoReport v2 projection of service tickets: the service catalogue, jurisdictions,
 * WGS84 coordinates (GeoReport `lat`/`long` are WGS84; Chinese map SDKs give GCJ-02 or BD-09) and
 * the request view. Reporter data is never part of it; its free text, address, coordinates and
 * media are personal data (@pii in the SDL: only holders of `governance:cases` in their area read
 * them), and phone/ID/e-mail numbers and recognisable names typed into free text are masked.
 */
import { badInput } from '../../../lib/errors';
import { asciiWidth, DOOR, EMAIL, ID_CARD, LANDLINE, MOBILE } from '../../../lib/personal-data';
import type { TicketDoc } from '../models';
import { open311StatusOf } from './lifecycle';

export const SERVICE_CATALOGUE = [
  { code: 'SANITATION', name: '环境卫生', group: '物业管理', keywords: ['保洁', '卫生'] },
  { code: 'REPAIR', name: '房屋维修', group: '物业管理', keywords: ['报修', '维修'] },
  { code: 'ELEVATOR', name: '电梯维保', group: '物业管理', keywords: ['电梯'] },
  { code: 'FEE', name: '物业费收缴', group: '物业管理', keywords: ['物业费', '收费'] },
  { code: 'PARKING', name: '小区停车', group: '物业管理', keywords: ['停车'] },
  { code: 'EBIKE_CHARGING', name: '电动车充电', group: '物业管理', keywords: ['电动车', '充电'] },
  { code: 'GREENERY', name: '绿化管养', group: '物业管理', keywords: ['绿化'] },
  { code: 'WASTE', name: '垃圾清运与分类', group: '物业管理', keywords: ['垃圾', '垃圾分类'] },
  { code: 'DOG', name: '文明养犬', group: '社区治理', keywords: ['养犬'] },
  { code: 'CLUTTER', name: '杂物乱堆', group: '社区治理', keywords: ['杂物', '楼道'] },
  { code: 'ILLEGAL_BUILD', name: '违章搭建', group: '社区治理', keywords: ['违建'] },
  { code: 'SECURITY', name: '治安安全', group: '社区治理', keywords: ['治安', '安全'] },
  { code: 'HEATING', name: '集中供暖', group: '公用事业', keywords: ['供暖'] },
  { code: 'WATER', name: '供水', group: '公用事业', keywords: ['供水', '停水'] },
  { code: 'NOISE', name: '噪声扰民', group: '社区治理', keywords: ['噪声'] },
] as const;

const NAMES = new Map<string, string>(SERVICE_CATALOGUE.map((s) => [s.code, s.name]));
export const serviceName = (code: string) => NAMES.get(code) ?? code;

/** Open311 jurisdiction ids of the cities in the graph; a 6-digit city code is accepted too. */
export const JURISDICTIONS: Readonly<Record<string, string>> = { nanjing: '320100', lianyungang: '320700' };

/** City code of a jurisdiction id; BAD_USER_INPUT naming the argument when unknown. */
export function jurisdictionCity(jurisdictionId: string, field = 'jurisdictionId'): string {
  const id = jurisdictionId.trim().toLowerCase();
  if (JURISDICTIONS[id]) return JURISDICTIONS[id];
  if (/^\d{4}00$/.test(id) && Object.values(JURISDICTIONS).includes(id)) return id;
  throw badInput(field, `unknown jurisdiction "${jurisdictionId}"; known: ${Object.keys(JURISDICTIONS).join(', ')} (or their city codes)`);
}

export const SERVICE_NOTICE = '12345: 一般诉求5个工作日内办结；办结后回访并测评满意度';

// ---- coordinates ---------------------------------------------------------------------------

const A = 6378245.0;
const EE = 0.00669342162296594323;

const outOfChina = (lat: number, lng: number) => lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;

function transformLat(x: number, y: number): number {
  let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3;
  r += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3;
  return r;
}

function transformLng(x: number, y: number): number {
  let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3;
  r += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3;
  return r;
}

/** WGS84 → GCJ-02 (the published forward transform). */
export function wgs84ToGcj02(lat: number, lng: number): { lat: number; lng: number } {
  if (outOfChina(lat, lng)) return { lat, lng };
  let dLat = transformLat(lng - 105, lat - 35);
  let dLng = transformLng(lng - 105, lat - 35);
  const radLat = (lat / 180) * Math.PI;
  let magic = Math.sin(radLat);
  magic = 1 - EE * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI);
  dLng = (dLng * 180) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return { lat: lat + dLat, lng: lng + dLng };
}

/** GCJ-02 → WGS84 by fixed-point iteration of the forward transform (error well under 1 m). */
export function gcj02ToWgs84(lat: number, lng: number): { lat: number; lng: number } {
  if (outOfChina(lat, lng)) return { lat, lng };
  let w = { lat, lng };
  for (let i = 0; i < 20; i++) {
    const g = wgs84ToGcj02(w.lat, w.lng);
    const dLat = g.lat - lat;
    const dLng = g.lng - lng;
    w = { lat: w.lat - dLat, lng: w.lng - dLng };
    if (Math.abs(dLat) < 1e-10 && Math.abs(dLng) < 1e-10) break;
  }
  return w;
}

/** BD-09 → GCJ-02 (Baidu's published inverse). */
export function bd09ToGcj02(lat: number, lng: number): { lat: number; lng: number } {
  const xPi = (Math.PI * 3000) / 180;
  const x = lng - 0.0065;
  const y = lat - 0.006;
  const z = Math.sqrt(x * x + y * y) - 0.00002 * Math.sin(y * xPi);
  const theta = Math.atan2(y, x) - 0.000003 * Math.cos(x * xPi);
  return { lat: z * Math.sin(theta), lng: z * Math.cos(theta) };
}

export function toWgs84(p: { lat: number; lng: number; datum?: string | null }): { lat: number; lng: number } {
  if (p.datum === 'GCJ02') return gcj02ToWgs84(p.lat, p.lng);
  if (p.datum === 'BD09') {
    const g = bd09ToGcj02(p.lat, p.lng);
    return gcj02ToWgs84(g.lat, g.lng);
  }
  return { lat: p.lat, lng: p.lng };
}

// ---- personal data in free text (patterns: lib/personal-data.ts) ---------------------------

/** Common single-character surnames (the top of the 2020 census list) and compound surnames. */
const SURNAMES =
  '王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金贾夏韦傅方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文施洪辛柯庄凌季';
const COMPOUND_SURNAMES = ['欧阳', '司马', '诸葛', '上官', '东方', '皇甫', '尉迟', '公孙', '慕容', '令狐', '司徒', '夏侯'];
const HAN = '[\\u4e00-\\u9fa5]';
/** Delimiters around a name typed as its own word: start/end, spaces, punctuation, digits. */
const EDGE_BEFORE = '(?<=^|[\\s,，。;；:：、()（）\\[\\]【】/|"“”\'‘’0-9A-Za-z-])';
const EDGE_AFTER = '(?=$|[\\s,，。;；:：、()（）\\[\\]【】/|"“”\'‘’0-9A-Za-z-])';
/** A name written as its own word: a surname and one or two given-name characters (compound: one or two). */
const NAME_WORD = new RegExp(`${EDGE_BEFORE}(?:(?:${COMPOUND_SURNAMES.join('|')})${HAN}{1,2}|[${SURNAMES}]${HAN}{1,2})${EDGE_AFTER}`, 'gu');
/** A surname with a form of address: 张先生, 李女士, 王阿姨, 刘师傅 … */
const NAME_TITLE = new RegExp(`(?:${COMPOUND_SURNAMES.join('|')}|[${SURNAMES}])(?:先生|女士|小姐|阿姨|大爷|大妈|奶奶|爷爷|师傅|老师)`, 'gu');
/** A name after a label and a colon or space: 姓名：张三, 联系人 李四 … */
const NAME_LABEL = new RegExp(`(姓名|联系人|报告人|反映人|来电人|诉求人)([:：]\\s*|\\s+)${HAN}{2,4}`, 'gu');

/**
 * Masks ID-card, mobile (also grouped with spaces, dashes or dots, full-width digits too), landline
 * numbers, e-mail addresses, door numbers (5栋2单元301室) and
 * names it can recognise (a surname word of its own, a surname with a form of address, a labelled
 * name). A safety net for the readers of free text; the text itself is personal data (@pii).
 */
export function maskPersonalData(text: string): string {
  // Full-width digits, letters and + - . (１３８…) read as their ASCII forms first; Chinese
  // punctuation is left as typed.
  return asciiWidth(text)
    .replace(ID_CARD, '[身份证号已隐去]')
    .replace(MOBILE, '[手机号已隐去]')
    .replace(LANDLINE, '[电话已隐去]')
    .replace(EMAIL, '[邮箱已隐去]')
    .replace(DOOR, '[门牌已隐去]')
    .replace(NAME_LABEL, (_m, label: string, sep: string) => `${label}${sep}[姓名已隐去]`)
    .replace(NAME_TITLE, '[姓名已隐去]')
    .replace(NAME_WORD, '[姓名已隐去]');
}

// ---- the request view ----------------------------------------------------------------------

export interface Open311RequestView {
  /** Not in the schema: the ticket's id and area, for the audit log and the @rowScope of its personal fields. */
  __recordId: string;
  communityId: string;
  districtCode: string;
  companyUscc: string | null;
  service_request_id: string;
  status: 'open' | 'closed';
  status_notes: string | null;
  service_name: string;
  service_code: string;
  description: string | null;
  agency_responsible: string | null;
  service_notice: string;
  requested_datetime: Date;
  updated_datetime: Date;
  expected_datetime: Date | null;
  address: string | null;
  address_id: string | null;
  zipcode: string | null;
  lat: number | null;
  long: number | null;
  media_url: string | null;
}

const round7 = (v: number) => Math.round(v * 1e7) / 1e7;

export function latestNoteText(t: Pick<TicketDoc, 'notes'>): string | null {
  const notes = t.notes ?? [];
  for (let i = notes.length - 1; i >= 0; i--) if (notes[i].text) return maskPersonalData(notes[i].text as string);
  return null;
}

/** The Open311 view of a ticket. Built field by field from an allow-list: reporter data cannot leak. */
export function toOpen311(t: TicketDoc): Open311RequestView {
  const status = open311StatusOf(t.status);
  const lastNoteAt = (t.notes ?? []).reduce((m, n) => Math.max(m, new Date(n.at).getTime()), 0);
  const lastChange = new Date(Math.max(new Date(t.lastTransitionAt).getTime(), lastNoteAt));
  const closedAt = t.status === 'CANCELLED' ? t.lastTransitionAt : (t.resolvedAt ?? t.lastTransitionAt);
  const wgs = t.location?.lat != null && t.location.lng != null ? toWgs84({ lat: t.location.lat, lng: t.location.lng, datum: t.location.datum }) : null;
  return {
    __recordId: t._id,
    communityId: t.communityId,
    districtCode: t.districtCode,
    companyUscc: t.companyUscc ?? null,
    service_request_id: t._id,
    status,
    status_notes: latestNoteText(t),
    service_name: serviceName(t.serviceCode),
    service_code: t.serviceCode,
    description: t.description ? maskPersonalData(t.description) : null,
    agency_responsible: t.agencyResponsible ?? t.assigneeOrg ? maskPersonalData((t.agencyResponsible ?? t.assigneeOrg)!) : null,
    service_notice: SERVICE_NOTICE,
    requested_datetime: t.requestedAt,
    updated_datetime: status === 'closed' ? new Date(closedAt) : lastChange,
    expected_datetime: t.dueAt ?? null,
    address: t.addressString ?? null,
    // The 小区: the coarse location of the public view (the exact address and spot are personal data).
    address_id: t.communityId,
    zipcode: null,
    lat: wgs ? round7(wgs.lat) : null,
    long: wgs ? round7(wgs.lng) : null,
    media_url: t.mediaUrls?.[0] ?? null,
  };
}
