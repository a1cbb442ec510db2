/**
 * The header map of every import kind, in one place: each column's field, its Chinese header as
 * bureaus write it (and other accepted spellings; the English field name is always accepted), its
 * type, unit, allowed values (Chinese label → the schema's value; the value's own name is accepted
 * too) and an example. The import reader, the templates and the report all read this table. Cells
 * are converted to the batch mutation's row type here; whether a value is allowed (ranges, known
 * 小区, enumerations, personal data in public text) is decided by the subgraph's write path.
 */

export type ColumnType = 'text' | 'int' | 'number' | 'date' | 'boolean' | 'enum' | 'enumList' | 'list' | 'yuanToFen' | 'wanToFen' | 'rate' | 'period' | 'items';

export interface Column {
  /** Field of the batch mutation's row (or a pseudo-field combined by the kind's `toRow`). */
  field: string;
  /** Header as bureaus write it. */
  zh: string;
  /** Other accepted headers. */
  aliases?: string[];
  type: ColumnType;
  required?: boolean;
  unit?: string;
  /** Chinese label → value, for enum columns. */
  values?: Record<string, string>;
  /** A sentence for the template's cell note. */
  note?: string;
  example: string | number | boolean | Date;
  /** Personal data: never printed in a report. */
  personal?: boolean;
}

export interface ImportKind {
  name: string;
  subgraph: 'properties' | 'governance' | 'elderly' | 'renovation';
  /** What the kind is, for help and templates. */
  title: string;
  /** Sheet name of the template. */
  sheet: string;
  mutation: string;
  rowType: string;
  /**
   * The subgraph's end-of-import mutation, for kinds whose statistics the client defers: batches
   * go with `deferStatistics: true` and this is called once at the end (docs/import.md).
   */
  finish?: string;
  columns: Column[];
  /** Builds the mutation's row from the converted cells (default: the fields as they are). */
  toRow?(cells: Record<string, unknown>): Record<string, unknown>;
  /** Rows with the same group key must travel in one batch (committee members). */
  groupKey?(cells: Record<string, unknown>): string | null;
  /** Field a write path names (after `input.`) → the column field it came from. */
  fieldMap?: Record<string, string>;
  /** The row's natural key (duplicates across the whole file are refused) and the column it is reported on. */
  key: { of(row: Record<string, unknown>): string | null; field: string; secret?: boolean };
}

const HOUSING = { 商品房: 'COMMERCIAL', 拆迁安置房: 'RESETTLEMENT', 安置房: 'RESETTLEMENT', 房改房: 'REFORM_HOUSING', 单位房: 'REFORM_HOUSING', 保障房: 'AFFORDABLE', 混合: 'MIXED' };
const MODES = { 市场化: 'MARKET', 公益性托管: 'CUSTODIAL_PUBLIC_WELFARE', 街道兜底: 'STREET_FALLBACK', 应急: 'STREET_FALLBACK', 自管: 'SELF_MANAGED', 无物业: 'NONE' };
const SELECTION = { 公开招标: 'PUBLIC_TENDER', 业委会选聘: 'OWNERS_COMMITTEE_RECRUITMENT', 街道托管: 'STREET_CUSTODY', 前期物业: 'PRELIMINARY', 协议: 'NEGOTIATED' };
const BASIS = { 按户: 'HOUSEHOLD', 按金额: 'AMOUNT', 未知: 'UNKNOWN' };
const COMMITTEE_TYPES = { 业主委员会: 'OWNERS_COMMITTEE', 业委会: 'OWNERS_COMMITTEE', 物业管理委员会: 'PROPERTY_MANAGEMENT_COMMITTEE', 物管会: 'PROPERTY_MANAGEMENT_COMMITTEE' };
const COMMITTEE_STATUS = { 在任: 'ACTIVE', 已到期: 'EXPIRED', 已解散: 'DISSOLVED' };
const ROLES = { 主任: 'DIRECTOR', 副主任: 'DEPUTY_DIRECTOR', 委员: 'MEMBER', 秘书: 'SECRETARY' };
const AFFILIATIONS = { 业主: 'OWNER', 社区干部: 'COMMUNITY_CADRE', 社区民警: 'COMMUNITY_POLICE', 物业人员: 'PROPERTY_STAFF', 街道人员: 'STREET_STAFF' };
const GENDERS = { 男: 'MALE', 女: 'FEMALE' };
const AGE_BANDS = { '60-69岁': 'AGE_60_69', '70-79岁': 'AGE_70_79', '80-89岁': 'AGE_80_89', '90岁以上': 'AGE_90_PLUS' };
const LIVING = { 独居: 'LIVING_ALONE', 空巢: 'EMPTY_NEST', 留守: 'LEFT_BEHIND', 与家人同住: 'WITH_FAMILY' };
const DIFFICULTY = {
  低保: 'LOW_INCOME_SUBSISTENCE', 特困: 'EXTREME_POVERTY', 残疾: 'DISABLED', 半失能: 'SEMI_DISABLED', 失智: 'DEMENTIA', 失能: 'SEVERE_DISABILITY',
  计生特殊家庭: 'FAMILY_PLANNING_SPECIAL', 高龄: 'ADVANCED_AGE', 慢病高风险: 'CHRONIC_HIGH_RISK',
};
const SPONSORS = { 政府: 'GOVERNMENT', 物业企业: 'PROPERTY_COMPANY', 业主: 'OWNERS', 混合: 'MIXED' };
const STATUSES = { 储备: 'RESERVE', 计划: 'PLANNED', 立项: 'APPROVED', 招标: 'TENDERING', 在建: 'UNDER_CONSTRUCTION', 完工: 'COMPLETED', 验收通过: 'ACCEPTED', 长效管理: 'LONG_TERM_MGMT' };
/** Funding columns of the project list: one per funding type, in 万元. */
const FUNDING: [string, string][] = [
  ['CENTRAL_SUBSIDY', '中央补助'], ['LOCAL_FISCAL', '地方财政'], ['SPECIAL_BOND', '专项债'], ['RESIDENT_CONTRIBUTION', '居民出资'],
  ['PROPERTY_COMPANY', '物业企业出资'], ['UTILITY_COMPANY', '管线单位出资'], ['ORIGINAL_PROPERTY_UNIT', '原产权单位出资'], ['MAINTENANCE_FUND', '维修资金'],
];
export const ITEM_CLASS_LABELS: Record<string, string> = { 基础类: 'BASIC', 完善类: 'IMPROVEMENT', 提升类: 'UPGRADE' };

const communities: ImportKind = {
  name: 'communities',
  subgraph: 'properties',
  title: '小区台账（含物业服务合同）',
  sheet: '小区台账',
  mutation: 'importCommunities',
  rowType: 'CommunityImportRow',
  finish: 'finishPropertiesImport',
  key: { of: (r) => (r.id ? String(r.id) : null), field: 'id' },
  columns: [
    { field: 'id', zh: '小区编码', type: 'text', required: true, note: 'cm_<区代码>_<编号>，如 cm_320104_0001；导入的自然键', example: 'cm_320104_0101' },
    { field: 'name', zh: '小区名称', type: 'text', required: true, note: '公开信息，不得含电话、门牌号', example: '示例新村' },
    { field: 'district', zh: '所在区', aliases: ['区县', '所在区县'], type: 'text', required: true, note: '区代码（6 位）或区名', example: '秦淮区' },
    { field: 'street', zh: '所在街道', aliases: ['街道'], type: 'text', note: '街道代码（9 位）或街道名', example: '' },
    { field: 'neighborhood', zh: '所属社区', aliases: ['社区'], type: 'text', note: '社区代码（12 位）或社区名', example: '' },
    { field: 'address', zh: '地址', aliases: ['小区地址'], type: 'text', note: '公开信息，不得含个人信息', example: '瑞金路1号' },
    { field: 'builtYear', zh: '建成年份', aliases: ['建成年代'], type: 'int', unit: '年', note: '1900 至今年', example: 1985 },
    { field: 'housingType', zh: '房屋类型', type: 'enum', values: HOUSING, example: '房改房' },
    { field: 'buildingCount', zh: '楼栋数', type: 'int', unit: '栋', example: 12 },
    { field: 'householdCount', zh: '户数', aliases: ['总户数'], type: 'int', unit: '户', example: 560 },
    { field: 'residentCount', zh: '居住人口', aliases: ['人口数'], type: 'int', unit: '人', example: 1500 },
    { field: 'floorAreaM2', zh: '建筑面积(㎡)', aliases: ['建筑面积', '建筑面积(平方米)'], type: 'number', unit: '㎡', example: 45000 },
    { field: 'managementMode', zh: '管理模式', aliases: ['物业管理模式'], type: 'enum', values: MODES, example: '市场化' },
    { field: 'servicePromise', zh: '服务承诺', type: 'text', note: '公开信息', example: '' },
    { field: 'companyName', zh: '物业服务企业', aliases: ['物业公司', '物业服务企业名称'], type: 'text', note: '当前合同的企业；与统一社会信用代码同填', example: '示例物业服务有限公司' },
    { field: 'companyUscc', zh: '统一社会信用代码', aliases: ['企业统一社会信用代码'], type: 'text', note: '18 位；与小区一起构成合同的自然键', example: '91320100MA1EXAMPL1' },
    { field: 'selectionMethod', zh: '选聘方式', type: 'enum', values: SELECTION, example: '公开招标' },
    { field: 'contractStart', zh: '合同开始日期', type: 'date', example: new Date(Date.UTC(2024, 0, 1)) },
    { field: 'contractEnd', zh: '合同结束日期', type: 'date', example: new Date(Date.UTC(2026, 11, 31)) },
    { field: 'feeStandardYuanPerM2Month', zh: '物业费标准(元/㎡·月)', aliases: ['物业费标准'], type: 'number', unit: '元/㎡·月', note: '0-100', example: 0.85 },
  ],
};

const buildings: ImportKind = {
  name: 'buildings',
  subgraph: 'properties',
  title: '楼栋台账（每行一栋楼）',
  sheet: '楼栋',
  mutation: 'importBuildings',
  rowType: 'BuildingImportRow',
  key: { of: (r) => (r.communityId && r.number ? `${String(r.communityId).trim()}|${String(r.number).trim().replace(/\s+/g, ' ')}` : null), field: 'number' },
  columns: [
    { field: 'communityId', zh: '小区编码', type: 'text', required: true, note: '已在小区台账中的小区', example: 'cm_320104_0101' },
    { field: 'number', zh: '楼栋号', aliases: ['楼栋', '楼号', '楼栋编号'], type: 'text', required: true, note: '如 3栋、12号楼；与小区一起构成自然键；公开信息，不得含门牌号', example: '3栋' },
    { field: 'floors', zh: '层数', aliases: ['楼层数', '地上层数'], type: 'int', unit: '层', note: '1-200', example: 6 },
    { field: 'unitCount', zh: '单元数', type: 'int', unit: '个', note: '0-100', example: 3 },
    { field: 'hasElevator', zh: '是否有电梯', aliases: ['有无电梯', '电梯'], type: 'boolean', note: '是/否', example: '否' },
    { field: 'builtYear', zh: '建成年份', aliases: ['建成年代'], type: 'int', unit: '年', note: '1900 至今年', example: 1985 },
  ],
};

const fees: ImportKind = {
  name: 'fees',
  subgraph: 'properties',
  title: '物业费收缴（按小区、按期间）',
  sheet: '物业费收缴',
  mutation: 'importFeeCollections',
  rowType: 'FeeCollectionImportRow',
  finish: 'finishPropertiesImport',
  key: { of: (r) => (r.communityId && r.period ? `${r.communityId}|${r.period}` : null), field: 'period' },
  columns: [
    { field: 'communityId', zh: '小区编码', type: 'text', required: true, example: 'cm_320104_0001' },
    { field: 'period', zh: '期间', aliases: ['统计期间', '年月'], type: 'period', required: true, note: 'YYYY 或 YYYY-MM；与小区一起构成自然键', example: '2024-06' },
    { field: 'chargeableHouseholds', zh: '应收户数', type: 'int', unit: '户', example: 500 },
    { field: 'paidHouseholds', zh: '已缴户数', aliases: ['实收户数'], type: 'int', unit: '户', note: '不得超过应收户数', example: 450 },
    { field: 'receivableFen', zh: '应收金额(元)', aliases: ['应收金额'], type: 'yuanToFen', unit: '元', example: 300000 },
    { field: 'receivedFen', zh: '实收金额(元)', aliases: ['实收金额'], type: 'yuanToFen', unit: '元', example: 270000 },
    { field: 'historicalArrearsFen', zh: '历史欠费(元)', type: 'yuanToFen', unit: '元', example: 50000 },
    { field: 'arrearsRecoveredFen', zh: '清欠金额(元)', type: 'yuanToFen', unit: '元', example: 10000 },
    { field: 'prepaidFen', zh: '预收金额(元)', type: 'yuanToFen', unit: '元', example: 0 },
    { field: 'reportedRate', zh: '公布收缴率', type: 'rate', note: '0-1 或百分数（如 95%）', example: '' },
    { field: 'reportedRateBasis', zh: '公布口径', type: 'enum', values: BASIS, example: '' },
    { field: 'reportedRateIsLowerBound', zh: '是否下限', type: 'boolean', note: '是/否', example: '' },
    { field: 'source', zh: '数据来源', type: 'text', note: '公开信息，不得含个人信息', example: '区物业办月报' },
  ],
};

const committees: ImportKind = {
  name: 'committees',
  subgraph: 'governance',
  title: '业委会/物管会及成员名册（每行一名成员）',
  sheet: '业委会名册',
  mutation: 'importCommittees',
  rowType: 'CommitteeImportRow',
  key: { of: (r) => (r.communityId && r.type && r.memberName ? `${r.communityId}|${r.type}|${r.termNo ?? ''}|${r.memberName}` : null), field: 'memberName' },
  columns: [
    { field: 'communityId', zh: '小区编码', type: 'text', required: true, example: 'cm_320104_0001' },
    { field: 'type', zh: '组织类型', type: 'enum', required: true, values: COMMITTEE_TYPES, note: '小区 + 组织类型 + 届次 确定一个组织；同一组织的行须连续', example: '业主委员会' },
    { field: 'termNo', zh: '届次', type: 'int', note: '1-99', example: 3 },
    { field: 'termStart', zh: '任期开始', type: 'date', example: new Date(Date.UTC(2023, 5, 1)) },
    { field: 'termEnd', zh: '任期结束', type: 'date', example: new Date(Date.UTC(2028, 4, 31)) },
    { field: 'status', zh: '状态', type: 'enum', required: true, values: COMMITTEE_STATUS, example: '在任' },
    { field: 'lastDisclosureAt', zh: '最近公示日期', type: 'date', example: new Date(Date.UTC(2024, 11, 20)) },
    { field: 'source', zh: '数据来源', type: 'text', note: '公开信息', example: '街道备案' },
    { field: 'memberName', zh: '姓名', aliases: ['成员姓名'], type: 'text', required: true, personal: true, note: '个人信息，仅授权人员可见', example: '张三' },
    { field: 'memberPhone', zh: '联系电话', aliases: ['手机号'], type: 'text', personal: true, note: '个人信息', example: '13800000000' },
    { field: 'memberRole', zh: '职务', type: 'enum', required: true, values: ROLES, example: '主任' },
    { field: 'memberAffiliation', zh: '身份类别', type: 'enum', required: true, values: AFFILIATIONS, example: '业主' },
    { field: 'memberIsPartyMember', zh: '是否党员', aliases: ['政治面貌'], type: 'boolean', personal: true, note: '敏感个人信息；是/否（中共党员=是）', example: '是' },
  ],
  groupKey: (c) => (c.communityId && c.type ? `${c.communityId}|${c.type}|${c.termNo ?? ''}` : null),
};

const elderly: ImportKind = {
  name: 'elderly',
  subgraph: 'elderly',
  title: '老年人台账',
  sheet: '老年人台账',
  mutation: 'importElderlyResidents',
  rowType: 'ElderlyResidentImportRow',
  finish: 'finishElderlyImport',
  key: { of: (r) => (r.idCardNumber ? String(r.idCardNumber).replace(/\s+/g, '').toUpperCase() : null), field: 'idCardNumber', secret: true },
  columns: [
    { field: 'idCardNumber', zh: '身份证号', aliases: ['身份证号码', '公民身份号码'], type: 'text', required: true, personal: true, note: '18 位，请以文本格式填写；到达服务端即做加密散列，不保存原号码', example: '110101195001011239' },
    { field: 'communityId', zh: '小区编码', type: 'text', required: true, example: 'cm_320104_0001' },
    { field: 'name', zh: '姓名', type: 'text', personal: true, note: '个人信息', example: '李四' },
    { field: 'phone', zh: '联系电话', type: 'text', personal: true, note: '个人信息', example: '13900000000' },
    { field: 'gender', zh: '性别', type: 'enum', values: GENDERS, note: '留空则按身份证号', example: '男' },
    { field: 'ageBand', zh: '年龄段', type: 'enum', values: AGE_BANDS, note: '留空则按身份证号出生日期', example: '' },
    { field: 'livingArrangement', zh: '居住状况', type: 'enum', required: true, values: LIVING, example: '独居' },
    { field: 'difficultyFlags', zh: '困难类型', type: 'enumList', values: DIFFICULTY, note: '可多选，用、或逗号分隔；敏感个人信息', example: '低保、慢病高风险' },
    { field: 'buildingRef', zh: '楼栋', type: 'text', example: '' },
    { field: 'registeredByTeamId', zh: '登记服务队伍', type: 'text', note: '服务队伍编号，须服务该小区', example: '' },
    { field: 'consentRecordedAt', zh: '同意日期', aliases: ['知情同意日期'], type: 'date', required: true, note: '本人或监护人单独同意的日期（个人信息保护法）', example: new Date(Date.UTC(2024, 2, 1)) },
    { field: 'registeredAt', zh: '登记日期', type: 'date', note: '留空为今天', example: new Date(Date.UTC(2024, 2, 1)) },
    { field: 'emergencyContactName', zh: '紧急联系人', type: 'text', personal: true, example: '李小四' },
    { field: 'emergencyContactRelation', zh: '紧急联系人关系', type: 'text', personal: true, example: '子女' },
    { field: 'emergencyContactPhone', zh: '紧急联系人电话', type: 'text', personal: true, example: '13700000000' },
    { field: 'healthNotes', zh: '健康备注', type: 'text', personal: true, note: '敏感个人信息，最多 1000 字', example: '' },
  ],
  fieldMap: { 'emergencyContact.name': 'emergencyContactName', 'emergencyContact.relation': 'emergencyContactRelation', 'emergencyContact.phone': 'emergencyContactPhone', clientKey: 'idCardNumber' },
};

const projects: ImportKind = {
  name: 'projects',
  subgraph: 'renovation',
  title: '老旧小区改造项目清单（含改造内容与资金来源）',
  sheet: '改造项目',
  mutation: 'importRenovationProjects',
  rowType: 'RenovationProjectImportRow',
  key: { of: (r) => (r.projectNo ? String(r.projectNo) : null), field: 'projectNo' },
  columns: [
    { field: 'projectNo', zh: '项目编号', type: 'text', required: true, note: '导入的自然键', example: 'QH-2025-001' },
    { field: 'name', zh: '项目名称', type: 'text', required: true, note: '公开信息', example: '示例新村老旧小区改造' },
    { field: 'districtCode', zh: '所在区', aliases: ['区代码'], type: 'text', required: true, note: '区代码（6 位）', example: '320104' },
    { field: 'communityIds', zh: '小区编码', type: 'list', required: true, note: '可多个，用、或逗号分隔', example: 'cm_320104_0001' },
    { field: 'planYear', zh: '计划年度', type: 'int', required: true, unit: '年', example: 2025 },
    { field: 'batch', zh: '批次', type: 'text', example: '第一批' },
    { field: 'sponsor', zh: '实施主体', type: 'enum', values: SPONSORS, example: '政府' },
    { field: 'status', zh: '项目状态', type: 'enum', values: STATUSES, note: '留空为计划', example: '计划' },
    { field: 'buildings', zh: '楼栋数', type: 'int', unit: '栋', example: 12 },
    { field: 'households', zh: '户数', type: 'int', unit: '户', example: 560 },
    { field: 'floorAreaM2', zh: '建筑面积(㎡)', aliases: ['建筑面积'], type: 'number', unit: '㎡', example: 45000 },
    { field: 'budgetFen', zh: '总投资(万元)', aliases: ['总投资', '概算(万元)'], type: 'wanToFen', unit: '万元', example: 1200 },
    {
      field: 'items', zh: '改造内容', type: 'items',
      note: '每项：类别:类型:数量:单位:金额(万元)，多项用 ; 分隔；类别为基础类/完善类/提升类（或 BASIC/IMPROVEMENT/UPGRADE），类型如 ELEVATOR、PIPELINE',
      example: '基础类:PIPELINE:1200:m:300; 完善类:ELEVATOR:2:部:160',
    },
    ...FUNDING.map(([type, label]): Column => ({ field: `funding:${type}`, zh: `${label}(万元)`, aliases: [label], type: 'wanToFen', unit: '万元', note: `资金来源 ${type}`, example: type === 'CENTRAL_SUBSIDY' ? 500 : type === 'LOCAL_FISCAL' ? 700 : '' })),
    { field: 'contractorName', zh: '施工单位', type: 'text', note: '公开信息', example: '' },
    { field: 'contractorUscc', zh: '施工单位统一社会信用代码', type: 'text', example: '' },
  ],
  toRow(c) {
    const row: Record<string, unknown> = {};
    const funding: { type: string; amountFen: number }[] = [];
    for (const [k, v] of Object.entries(c)) {
      if (k.startsWith('funding:')) {
        if (v != null) funding.push({ type: k.slice('funding:'.length), amountFen: v as number });
      } else row[k] = v;
    }
    if (funding.length) row.fundingSources = funding;
    return row;
  },
  fieldMap: {
    name: 'name', cityCode: 'districtCode', 'scope.buildings': 'buildings', 'scope.households': 'households', 'scope.floorAreaM2': 'floorAreaM2',
    budget: 'budgetFen', 'budget.fen': 'budgetFen', communities: 'communityIds', clientKey: 'projectNo', 'contractor.name': 'contractorName', 'contractor.uscc': 'contractorUscc',
  },
};

export const KINDS: Record<string, ImportKind> = { communities, buildings, fees, committees, elderly, projects };

/** The kinds and the aliases a command line may use. */
export const KIND_ALIASES: Record<string, string> = {
  communities: 'communities', community: 'communities', register: 'communities', 小区: 'communities',
  buildings: 'buildings', building: 'buildings', 楼栋: 'buildings',
  fees: 'fees', 'fee-collections': 'fees', feeCollections: 'fees',
  committees: 'committees', committee: 'committees',
  elderly: 'elderly', residents: 'elderly', elderlyResidents: 'elderly',
  projects: 'projects', renovation: 'projects', renovationProjects: 'projects',
};

export function kindOf(name: string): ImportKind {
  const k = KINDS[KIND_ALIASES[name] ?? name];
  if (!k) throw new Error(`unknown kind "${name}"; one of: ${Object.keys(KINDS).join(', ')}`);
  return k;
}

/** The column a write path's field name refers to (for the report), else null. */
export function columnOfField(kind: ImportKind, field: string | null | undefined): Column | null {
  if (!field) return null;
  const f = field.replace(/^(input|personal)\./, '');
  const mapped = kind.fieldMap?.[f] ?? kind.fieldMap?.[f.replace(/\[\d+\].*$/, '')] ?? f;
  const base = mapped.replace(/\[\d+\].*$/, '').replace(/\..*$/, '');
  if (base === 'fundingSources') return kind.columns.find((c) => c.field.startsWith('funding:')) ?? null;
  return kind.columns.find((c) => c.field === mapped) ?? kind.columns.find((c) => c.field === base) ?? null;
}
