/**
 * Write paths of the register (台账) and its visit plan: registration, home visits, tier overrides
 * and changes of circumstances. Every input is validated before anything is written; a validation
 * failure is BAD_USER_INPUT naming the field. Creates are idempotent on `clientKey` (unique index).
 * Every write (and every replay of one) ends by bringing the statistics rollups of the resident up
 * to date (stats/write.ts) in the same request.
 */
import { randomUUID } from 'node:crypto';
import { badInput } from '../../../lib/errors';
import { AGE_BANDS, DIFFICULTY_FLAGS, LIVING_ARRANGEMENTS, RISK_TIERS, VISIT_MODES, VISIT_OCCASIONS, VISIT_OUTCOMES, type HomeVisitDoc, type ResidentDoc } from '../models';
import type { Repository } from './repository';
import { VISIT_INTERVAL_DAYS, deriveRiskTier, effectiveTier, isContact, isMajorEvent, nextVisitDue, type AgeBand, type RiskTier } from './risk';
import { isDuplicateKey } from '../../../lib/db';
import { refreshResident } from '../stats/write';

export type { CoverageRow } from '../stats/read';

/** Brings the statistics rollups of a resident up to date with its rows (after a write or a replay). */
const refreshStats = (repo: Repository, id: string) => refreshResident(repo.models, id);

/** After a write: the statistics rollups brought up to date, then the resident as now stored. */
async function refreshed(repo: Repository, id: string): Promise<ResidentDoc> {
  await refreshStats(repo, id);
  return (await repo.residentsById([id]))[0];
}

export interface RecordVisitResult {
  visit: HomeVisitDoc;
  elder: ResidentDoc;
  nextVisitDue: Date | null;
}

const CLIENT_KEY = /^[A-Za-z0-9_.:-]{8,100}$/;
/** A care team writes in its own name: another team's id is refused. */
const OWN_TEAM_ONLY = "a care team records in its own team's name only (leave it out or give your own team)";
const CLIENT_KEY_TAKEN = 'already used for a different request; choose a new key';
/** Accepted clock skew for "not in the future". */
const SKEW_MS = 5 * 60 * 1000;
const EARLIEST = new Date('2000-01-01T00:00:00Z');

function checkClientKey(key: string | null | undefined, field = 'clientKey'): string | null {
  if (key == null) return null;
  if (!CLIENT_KEY.test(key)) throw badInput(field, 'expected 8-100 characters: letters, digits, "-", "_", ".", ":"');
  return key;
}

function checkDate(value: Date | string | null | undefined, field: string, now: Date): Date | null {
  if (value == null) return null;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) throw badInput(field, 'not a valid date-time');
  if (d.getTime() > now.getTime() + SKEW_MS) throw badInput(field, 'must not be in the future');
  if (d < EARLIEST) throw badInput(field, 'must not be before 2000-01-01');
  return d;
}

function checkEnum<T extends string>(value: string, allowed: readonly T[], field: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw badInput(field, `unknown value "${value}"`);
  return value as T;
}

function checkFlags(flags: readonly string[] | null | undefined, ageBand: AgeBand, field = 'difficultyFlags'): string[] {
  const list = [...(flags ?? [])];
  for (const f of list) checkEnum(f, DIFFICULTY_FLAGS, field);
  if (new Set(list).size !== list.length) throw badInput(field, 'contains a flag twice');
  if (list.includes('ADVANCED_AGE') && (ageBand === 'AGE_60_69' || ageBand === 'AGE_70_79')) {
    throw badInput(field, 'ADVANCED_AGE (80+) contradicts ageBand ' + ageBand);
  }
  return list;
}

function checkReason(reason: string | null | undefined, field: string): string {
  const r = reason?.trim() ?? '';
  if (r.length < 2 || r.length > 200) throw badInput(field, 'a reason of 2-200 characters is required with a tier override');
  return r;
}

async function checkTeam(repo: Repository, teamId: string | null | undefined, communityId: string, field: string): Promise<string | null> {
  if (teamId == null) return null;
  const [team] = await repo.careTeamsById([teamId]);
  if (!team) throw badInput(field, `no care team with id "${teamId}"`);
  if (!(team.communityIds ?? []).includes(communityId)) throw badInput(field, `care team "${teamId}" does not serve 小区 "${communityId}"`);
  return teamId;
}

/** Personal data of a resident as written (`undefined` keeps a stored value, `null` clears it). */
export interface PersonalDataInput {
  name?: string | null;
  phone?: string | null;
  emergencyContact?: { name: string; relation: string; phone: string } | null;
  healthNotes?: string | null;
}

const PHONE = /^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$/;
// Control characters have no place in a name or a note (they would corrupt exports and logs).
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function checkText(value: string, field: string, min: number, max: number): string {
  const v = value.trim();
  if (v.length < min || v.length > max) throw badInput(field, min > 0 ? `expected ${min}-${max} characters` : `at most ${max} characters`);
  if (CONTROL.test(v)) throw badInput(field, 'contains control characters');
  return v;
}

function checkPhone(value: string, field: string): string {
  const v = value.replace(/\s+/g, '');
  if (!PHONE.test(v)) throw badInput(field, 'expected a mainland mobile (11 digits) or landline (0 + area code + number)');
  return v;
}

/** The `$set` of the personal fields given (validated); fields left out are not in it. */
export function personalSet(input: PersonalDataInput | null | undefined, prefix: string): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  if (!input) return set;
  if (input.name !== undefined) set.name = input.name === null ? null : checkText(input.name, `${prefix}.name`, 1, 50);
  if (input.phone !== undefined) set.phone = input.phone === null ? null : checkPhone(input.phone, `${prefix}.phone`);
  if (input.emergencyContact !== undefined) {
    const c = input.emergencyContact;
    set.emergencyContact =
      c === null
        ? null
        : {
            name: checkText(c.name, `${prefix}.emergencyContact.name`, 1, 50),
            relation: checkText(c.relation, `${prefix}.emergencyContact.relation`, 1, 20),
            phone: checkPhone(c.phone, `${prefix}.emergencyContact.phone`),
          };
  }
  if (input.healthNotes !== undefined) set.healthNotes = input.healthNotes === null ? null : checkText(input.healthNotes, `${prefix}.healthNotes`, 0, 1000) || null;
  return set;
}

/** The team when it exists and serves the 小区, else null (a default, never an error). */
async function servingTeam(repo: Repository, teamId: string | null | undefined, communityId: string): Promise<string | null> {
  if (!teamId) return null;
  const [team] = await repo.careTeamsById([teamId]);
  return team && (team.communityIds ?? []).includes(communityId) ? teamId : null;
}

/** The caller's team as the visiting team, when it serves the resident's 小区 or registered them. */
async function callerTeam(repo: Repository, teamId: string | null | undefined, elder: ResidentDoc): Promise<string | null> {
  if (teamId && elder.registeredByTeamId === teamId) return teamId;
  return servingTeam(repo, teamId, elder.communityId);
}


/** The visit plan fields implied by a tier and a reference date. */
function plan(tier: RiskTier, from: Date | null, majorEvent = false) {
  return { riskTier: tier, visitIntervalDays: VISIT_INTERVAL_DAYS[tier], nextVisitDue: from ? nextVisitDue(from, tier, majorEvent) : null };
}

export interface RegisterInput {
  clientKey: string;
  communityId: string;
  ageBand: string;
  livingArrangement: string;
  difficultyFlags?: readonly string[] | null;
  gender?: string | null;
  buildingRef?: string | null;
  registeredByTeamId?: string | null;
  /** The caller's own care team (from its token), when the caller is a care team. */
  callerTeamId?: string | null;
  consentRecordedAt: Date | string;
  registeredAt?: Date | string | null;
  riskTierOverride?: string | null;
  riskTierOverrideReason?: string | null;
  personal?: PersonalDataInput | null;
}

/**
 * Every check of a registration (no write) and the document it would store: used by
 * `registerResident` and by the register import (services/import.ts), so both follow one set of rules.
 */
export async function prepareRegistration(repo: Repository, input: RegisterInput, clientKey: string, now: Date) {
  const [community] = await repo.communityRefs([input.communityId]);
  if (!community) throw badInput('communityId', `unknown 小区 "${input.communityId}"`);
  const ageBand = checkEnum(input.ageBand, AGE_BANDS, 'ageBand');
  const livingArrangement = checkEnum(input.livingArrangement, LIVING_ARRANGEMENTS, 'livingArrangement');
  const difficultyFlags = checkFlags(input.difficultyFlags, ageBand);
  if (input.gender != null) checkEnum(input.gender, ['FEMALE', 'MALE'] as const, 'gender');
  if (input.buildingRef != null && (input.buildingRef.length < 1 || input.buildingRef.length > 64)) throw badInput('buildingRef', 'expected 1-64 characters');
  const consentRecordedAt = checkDate(input.consentRecordedAt, 'consentRecordedAt', now);
  if (!consentRecordedAt) throw badInput('consentRecordedAt', 'is required (separate consent under PIPL)');
  const registeredAt = checkDate(input.registeredAt, 'registeredAt', now) ?? now;
  if (consentRecordedAt > new Date(registeredAt.getTime() + SKEW_MS)) throw badInput('consentRecordedAt', 'consent must be recorded before or at registration');
  const override = input.riskTierOverride == null ? null : checkEnum(input.riskTierOverride, RISK_TIERS, 'riskTierOverride');
  const overrideReason = override ? checkReason(input.riskTierOverrideReason, 'riskTierOverrideReason') : null;
  if (!override && input.riskTierOverrideReason != null) throw badInput('riskTierOverrideReason', 'given without riskTierOverride');
  if (input.callerTeamId && input.registeredByTeamId != null && input.registeredByTeamId !== input.callerTeamId) throw badInput('registeredByTeamId', OWN_TEAM_ONLY);
  const registeredByTeamId =
    input.registeredByTeamId != null ? await checkTeam(repo, input.registeredByTeamId, community._id, 'registeredByTeamId') : await servingTeam(repo, input.callerTeamId, community._id);
  const personal = personalSet(input.personal, 'personal');

  const derivedRiskTier = deriveRiskTier({ ageBand, livingArrangement, difficultyFlags });
  const doc = {
    _id: `el_${randomUUID()}`,
    communityId: community._id,
    districtCode: community.districtCode,
    cityCode: community.cityCode,
    buildingRef: input.buildingRef ?? null,
    gender: input.gender ?? null,
    ageBand,
    livingArrangement,
    difficultyFlags,
    hasDifficulty: difficultyFlags.length > 0,
    derivedRiskTier,
    riskTierOverride: override,
    riskTierOverrideReason: overrideReason,
    ...plan(effectiveTier(derivedRiskTier, override), registeredAt),
    lastVisitedAt: null,
    status: 'ACTIVE',
    registeredAt,
    consentRecordedAt,
    registeredByTeamId,
    clientKey,
    ...personal,
  };
  return doc;
}

export async function registerResident(repo: Repository, input: RegisterInput): Promise<ResidentDoc> {
  const now = repo.now();
  const clientKey = checkClientKey(input.clientKey) as string;
  if (!clientKey) throw badInput('clientKey', 'is required');
  const existing = await repo.residentByClientKey(clientKey);
  if (existing) {
    // The same words as for any other clash: which 小区 or resident used the key is not the caller's to learn.
    if (existing.communityId !== input.communityId) throw badInput('clientKey', CLIENT_KEY_TAKEN);
    await refreshStats(repo, existing._id);
    return existing;
  }
  const doc = await prepareRegistration(repo, input, clientKey, now);
  try {
    await repo.models.Resident.collection.insertOne({ ...doc, createdAt: now, updatedAt: now } as never);
  } catch (e) {
    if (!isDuplicateKey(e)) throw e;
    const first = await repo.residentByClientKey(clientKey); // a concurrent retry won
    if (first) {
      await refreshStats(repo, first._id);
      return first;
    }
    throw e;
  }
  return refreshed(repo, doc._id);
}

export interface RecordVisitInput {
  elderId: string;
  mode: string;
  occasion: string;
  outcome: string;
  visitedAt?: Date | string | null;
  teamId?: string | null;
  referralTicketId?: string | null;
  clientKey?: string | null;
  findings?: string | null;
  /**
   * The caller's own care team (from its token): the visiting team when `teamId` is left out and
   * that team serves the 小区 or registered the resident, so the team sees the visit it recorded.
   */
  callerTeamId?: string | null;
}

async function loadActiveResident(repo: Repository, elderId: string, field = 'elderId'): Promise<ResidentDoc> {
  const [elder] = await repo.residentsById([elderId]);
  if (!elder) throw badInput(field, `no registered resident with id "${elderId}"`);
  return elder;
}

export async function recordVisit(repo: Repository, input: RecordVisitInput): Promise<RecordVisitResult> {
  const now = repo.now();
  const clientKey = checkClientKey(input.clientKey);
  if (clientKey) {
    const existing = await repo.visitByClientKey(clientKey);
    if (existing) {
      if (existing.elderId !== input.elderId) throw badInput('clientKey', CLIENT_KEY_TAKEN);
      await refreshStats(repo, existing.elderId);
      const [elder] = await repo.residentsById([existing.elderId]);
      return { visit: existing, elder, nextVisitDue: elder.nextVisitDue ?? null };
    }
  }
  const elder = await loadActiveResident(repo, input.elderId);
  if (elder.status !== 'ACTIVE') throw badInput('elderId', `resident "${input.elderId}" is ${elder.status}; the visit plan is closed`);
  const visitedAt = checkDate(input.visitedAt, 'visitedAt', now) ?? now;
  if (visitedAt < elder.registeredAt) throw badInput('visitedAt', 'is before the resident was registered');
  if (input.callerTeamId && input.teamId != null && input.teamId !== input.callerTeamId) throw badInput('teamId', OWN_TEAM_ONLY);
  const teamId = input.teamId != null ? await checkTeam(repo, input.teamId, elder.communityId, 'teamId') : await callerTeam(repo, input.callerTeamId, elder);
  if (input.referralTicketId != null && !/^[A-Za-z0-9_.:-]{1,64}$/.test(input.referralTicketId)) throw badInput('referralTicketId', 'expected 1-64 characters: letters, digits, "-", "_", ".", ":"');
  checkEnum(input.mode, VISIT_MODES, 'mode');
  checkEnum(input.occasion, VISIT_OCCASIONS, 'occasion');
  checkEnum(input.outcome, VISIT_OUTCOMES, 'outcome');
  const findings = input.findings == null ? null : checkText(input.findings, 'findings', 0, 1000) || null;

  const visit = {
    _id: `hv_${randomUUID()}`,
    elderId: elder._id,
    teamId,
    communityId: elder.communityId,
    districtCode: elder.districtCode,
    cityCode: elder.cityCode,
    visitedAt,
    mode: input.mode,
    occasion: input.occasion,
    outcome: input.outcome,
    referralTicketId: input.referralTicketId ?? null,
    findings,
    clientKey,
  };
  try {
    await repo.models.HomeVisit.collection.insertOne({ ...visit, createdAt: now, updatedAt: now } as never);
  } catch (e) {
    if (clientKey && isDuplicateKey(e)) return recordVisit(repo, input); // a concurrent retry won
    throw e;
  }

  // The visit plan: only contact moves the last-visit date; a later visit recorded out of order
  // does not move it back. A major event calls for a follow-up within 24 hours.
  const set: Record<string, unknown> = { updatedAt: now };
  if (input.outcome === 'DECEASED') {
    Object.assign(set, { status: 'DECEASED', nextVisitDue: null });
  } else if (isContact(input.outcome) && (!elder.lastVisitedAt || visitedAt >= elder.lastVisitedAt)) {
    Object.assign(set, { lastVisitedAt: visitedAt, nextVisitDue: nextVisitDue(visitedAt, elder.riskTier as RiskTier, isMajorEvent(input.outcome)) });
  }
  try {
    await repo.models.Resident.updateOne({ _id: elder._id }, { $set: set });
  } finally {
    // The visit row is written: the rollups follow it even when the plan update failed.
    await refreshStats(repo, elder._id);
  }
  const [updated] = await repo.residentsById([elder._id]);
  const [stored] = await repo.models.HomeVisit.find({ _id: visit._id }).lean<HomeVisitDoc[]>();
  return { visit: stored, elder: updated, nextVisitDue: updated.nextVisitDue ?? null };
}

/** The reference date of a plan: the last contact, or the registration before any visit. */
const planFrom = (e: ResidentDoc) => e.lastVisitedAt ?? e.registeredAt;

export async function overrideTier(repo: Repository, elderId: string, tier: string | null | undefined, reason: string | null | undefined): Promise<ResidentDoc> {
  const elder = await loadActiveResident(repo, elderId);
  const override = tier == null ? null : checkEnum(tier, RISK_TIERS, 'tier');
  const overrideReason = override ? checkReason(reason, 'reason') : null;
  const set: Record<string, unknown> = { riskTierOverride: override, riskTierOverrideReason: overrideReason, updatedAt: repo.now() };
  const eff = effectiveTier(elder.derivedRiskTier as RiskTier, override);
  Object.assign(set, elder.status === 'ACTIVE' ? plan(eff, planFrom(elder)) : { riskTier: eff, visitIntervalDays: VISIT_INTERVAL_DAYS[eff] });
  await repo.models.Resident.updateOne({ _id: elder._id }, { $set: set });
  return refreshed(repo, elder._id);
}

export interface CircumstancesInput {
  elderId: string;
  ageBand?: string | null;
  livingArrangement?: string | null;
  difficultyFlags?: readonly string[] | null;
  status?: string | null;
  personal?: PersonalDataInput | null;
}

export async function updateCircumstances(repo: Repository, input: CircumstancesInput): Promise<ResidentDoc> {
  const elder = await loadActiveResident(repo, input.elderId);
  const ageBand = input.ageBand == null ? (elder.ageBand as AgeBand) : checkEnum(input.ageBand, AGE_BANDS, 'ageBand');
  const livingArrangement = input.livingArrangement == null ? elder.livingArrangement : checkEnum(input.livingArrangement, LIVING_ARRANGEMENTS, 'livingArrangement');
  const difficultyFlags = checkFlags(input.difficultyFlags ?? elder.difficultyFlags, ageBand, 'difficultyFlags');
  let status = elder.status;
  if (input.status != null) {
    status = checkEnum(input.status, ['ACTIVE', 'MOVED_OUT'] as const, 'status');
    if (elder.status === 'DECEASED') throw badInput('status', 'the resident is recorded as deceased');
  }
  const personal = personalSet(input.personal, 'personal');
  const derivedRiskTier = deriveRiskTier({ ageBand, livingArrangement, difficultyFlags });
  const eff = effectiveTier(derivedRiskTier, elder.riskTierOverride as RiskTier | null);
  const set: Record<string, unknown> = {
    ...personal,
    ageBand, livingArrangement, difficultyFlags, hasDifficulty: difficultyFlags.length > 0, derivedRiskTier, status, updatedAt: repo.now(),
    ...(status === 'ACTIVE' ? plan(eff, planFrom(elder)) : { riskTier: eff, visitIntervalDays: VISIT_INTERVAL_DAYS[eff], nextVisitDue: null }),
  };
  await repo.models.Resident.updateOne({ _id: elder._id }, { $set: set });
  return refreshed(repo, elder._id);
}
