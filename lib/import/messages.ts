/**
 * Chinese wording of the validation messages the write paths give in English (the mutations' own
 * messages, lib/errors.ts `badInput`), for the row-by-row import report. One table of patterns; a
 * message no pattern knows is shown after a generic Chinese lead, never dropped.
 */

const KIND_ZH: Record<string, string> = {
  'an ID-card number': '身份证号',
  'a phone number': '电话号码',
  'an e-mail address': '电子邮箱',
  "a home's door number": '门牌号',
};

type Rule = [RegExp, (m: RegExpExecArray) => string];

const RULES: Rule[] = [
  [/^looks like it holds (.+?); this field is published to everyone/, (m) => `疑似包含${KIND_ZH[m[1]!] ?? '个人信息'}；此字段对所有人公开，请勿填写个人信息`],
  [/^is required \(separate consent under PIPL\)$/, () => '必填（个人信息保护法要求单独同意）'],
  [/^is required$/, () => '必填'],
  [/^must not be empty$/, () => '不得为空'],
  [/^must be zero or more$/, () => '须为零或正数'],
  [/^must be a non-negative number$/, () => '须为非负数'],
  [/^must not be negative$/, () => '不得为负数'],
  [/^must be greater than 0$/, () => '须大于 0'],
  [/^must be an integer$/, () => '须为整数'],
  [/^must be an integer number of fen$/, () => '须为整数（分）'],
  [/^must be 1 or more$/, () => '须为 1 或以上'],
  [/^must be a year between (\d+) and (\d+)$/, (m) => `须为 ${m[1]} 到 ${m[2]} 之间的年份`],
  [/^must be between (\S+) and (\S+)$/, (m) => `须在 ${m[1]} 到 ${m[2]} 之间`],
  [/^must be at most (\d+) characters$/, (m) => `不得超过 ${m[1]} 个字符`],
  [/^at most (\d+) characters$/, (m) => `不得超过 ${m[1]} 个字符`],
  [/^expected (\d+)-(\d+) characters$/, (m) => `应为 ${m[1]}-${m[2]} 个字符`],
  [/^cannot exceed (\w+)$/, (m) => `不得超过 ${m[1]}`],
  [/^expected YYYY or YYYY-MM, got "(.*)"$/, (m) => `应为 YYYY 或 YYYY-MM 格式，实际为 "${m[1]}"`],
  [/^(?:no 小区 with id|unknown 小区) "(.*)"$/, (m) => `未知小区 "${m[1]}"`],
  [/^unknown value "(.*)"(?:; allowed: (.*))?$/, (m) => `未知取值 "${m[1]}"${m[2] ? `，可选：${m[2]}` : ''}`],
  [/^unknown district "(.*)"$/, (m) => `未知区 "${m[1]}"`],
  [/^unknown street "(.*)" in district (\d+)$/, (m) => `区 ${m[2]} 中没有街道 "${m[1]}"`],
  [/^unknown neighbourhood "(.*)" in street (\S+)$/, (m) => `街道 ${m[2]} 中没有社区 "${m[1]}"`],
  [/^not a valid date-time$/, () => '不是有效的日期时间'],
  [/^must be an ISO-8601 date-time$/, () => '须为有效的日期时间'],
  [/^must not be in the future$/, () => '不得晚于当前时间'],
  [/^must not be before (\S+)$/, (m) => `不得早于 ${m[1]}`],
  [/^must not be before the start$/, () => '不得早于开始日期'],
  [/^must be an 18-character 统一社会信用代码/, () => '须为 18 位统一社会信用代码（数字和大写字母）'],
  [/^duplicated key "(.*)": also on row (\d+)$/, (m) => `重复的键值 "${m[1]}"：第 ${m[2]} 行已有`],
  [/^expected a mainland mobile/, () => '应为 11 位手机号或固定电话（0 + 区号 + 号码）'],
  [/^contains control characters$/, () => '含有控制字符'],
  [/^contains a flag twice$/, () => '同一标记出现两次'],
  [/^ADVANCED_AGE \(80\+\) contradicts ageBand (\S+)$/, (m) => `高龄（80 岁以上）与年龄段 ${m[1]} 矛盾`],
  [/^consent must be recorded before or at registration$/, () => '同意须在登记时或之前记录'],
  [/^no care team with id "(.*)"$/, (m) => `未知服务队伍 "${m[1]}"`],
  [/^care team "(.*)" does not serve 小区 "(.*)"$/, (m) => `服务队伍 "${m[1]}" 不服务小区 "${m[2]}"`],
  [/^not a valid 18-character ID-card number$/, () => '不是有效的 18 位身份证号'],
  [/^the ID-card check digit does not match$/, () => '身份证号校验位不符'],
  [/^the holder is under 60 on the ID-card number's birth date$/, () => '按身份证号出生日期，未满 60 周岁'],
  [/^does not match 所在区 (\d+)$/, (m) => `与所在区 ${m[1]} 不符`],
  [/^expected cm_<district code>_<suffix>/, () => '应为 cm_<区代码>_<编号> 格式'],
  [/^USCC (\S+) belongs to "(.*)"$/, (m) => `统一社会信用代码 ${m[1]} 属于 "${m[2]}"`],
  [/^company name "(.*)" belongs to USCC (\S+)$/, (m) => `企业名称 "${m[1]}" 已属于统一社会信用代码 ${m[2]}`],
  [/^give companyUscc with companyName$/, () => '填写企业名称时须同时填写统一社会信用代码'],
  [/^is listed twice$/, () => '重复列出'],
  [/^(.*) is listed twice(?:; give one amount per type)?$/, (m) => `${m[1]} 重复列出`],
  [/^district (\d+) is not in city (\d+)$/, (m) => `区 ${m[1]} 不属于市 ${m[2]}`],
  [/^must name at least one 小区$/, () => '至少须填写一个小区'],
  [/^already imported with other values; change it through the project mutations$/, () => '该项目已导入且取值不同；请通过项目变更功能修改'],
  [/^the resident is recorded as deceased$/, () => '该老人已登记为去世'],
  [/^the resident is registered in another 小区/, () => '该老人已在其他小区登记；迁移请通过台账办理'],
  [/^a number this long has lost digits/, () => '数字过长，表格已丢失位数，请以文本格式填写'],
  [/^must be 1-100 letters, digits or _ \. : -$/, () => '须为 1-100 个字母、数字或 _ . : -'],
  [/^at most (\d+) rows per call; send batches$/, (m) => `每次最多 ${m[1]} 行，请分批发送`],
  [/^a committee's rows must agree on (.+)$/, (m) => `同一组织的各行 ${m[1]} 须一致`],
  [/^(.+) must not be before (.+)$/, (m) => `${m[1]} 不得早于 ${m[2]}`],
  [/^only for sponsor PROPERTY_COMPANY or MIXED$/, () => '仅适用于实施主体为 PROPERTY_COMPANY 或 MIXED'],
  [/^must be a 6-digit GB\/T 2260 district code$/, () => '须为 6 位行政区划代码'],
];

/** The Chinese wording of an English validation message. */
export function messageZh(en: string): string {
  for (const [re, zh] of RULES) {
    const m = re.exec(en);
    if (m) return zh(m);
  }
  return `输入有误：${en}`;
}
