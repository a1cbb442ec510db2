import type {
  FacilityResolvers,
  FundingSourceResolvers,
  MoneyResolvers,
  ProjectMilestoneResolvers,
  RenovationItemResolvers,
  RenovationProjectResolvers,
  SpendRecordResolvers,
} from '../__generated__/resolvers-types';
import { daysLate, isDone, isLate } from '../services/lateness';
import { money, yuan } from '../services/money';
import { pointOf } from '../services/nearby';

export const Money: MoneyResolvers = {
  amount: (m) => yuan(m),
  currency: () => 'CNY',
  approx: (m) => m.approx,
};

export const RenovationProject: RenovationProjectResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.project.load(ref.id),
  id: (p) => p._id,
  communities: (p) => p.communityIds.map((id) => ({ id })),
  districtCodes: (p) => p.districtCodes ?? [],
  sponsor: (p) => (p.sponsor as never) ?? null,
  sponsorCompany: (p) => (p.sponsorCompanyUscc ? { uscc: p.sponsorCompanyUscc } : null),
  scope: (p) => p.scope ?? null,
  households: (p) => p.scope?.households ?? null,
  items: (p) => p.items ?? [],
  budget: (p) => money(p.budgetFen, p.budgetApprox),
  fundingSources: (p) =>
    (p.fundingSources ?? []).map((f) => ({
      ...f,
      spentFen: (p.spends ?? []).filter((s) => s.type === f.type).reduce((sum, s) => sum + s.amountFen, 0),
    })),
  spendToDate: (p) => (p.spends?.length ? money(p.spentFen ?? 0, p.spends.some((s) => s.amountApprox)) : null),
  spends: (p) => p.spends ?? [],
  milestones: (p) => p.milestones ?? [],
  late: (p, _a, { repo }) => {
    const at = repo.now();
    return (p.milestones ?? []).some((m) => isLate(m, at));
  },
  acceptance: (p) =>
    p.acceptance
      ? {
          at: p.acceptance.at ?? null,
          result: p.acceptance.result as never,
          residentSatisfaction: p.acceptance.residentSatisfaction ?? null,
          inspectorsOrgs: p.acceptance.inspectorsOrgs ?? [],
        }
      : null,
  contractor: (p) => (p.contractor ? { name: p.contractor.name, uscc: p.contractor.uscc ?? null } : null),
};

export const RenovationItem: RenovationItemResolvers = {
  cost: (i) => money(i.costFen, i.costApprox),
};

export const FundingSource: FundingSourceResolvers = {
  amount: (f) => money(f.amountFen, f.amountApprox)!,
  confirmed: (f) => f.confirmed ?? false,
  spent: (f) => money(f.spentFen, false)!,
};

export const SpendRecord: SpendRecordResolvers = {
  fundingType: (s) => s.type as never,
  amount: (s) => money(s.amountFen, s.amountApprox)!,
};

export const ProjectMilestone: ProjectMilestoneResolvers = {
  done: (m) => isDone(m),
  late: (m, _a, { repo }) => isLate(m, repo.now()),
  daysLate: (m, _a, { repo }) => daysLate(m, repo.now()),
};

export const Facility: FacilityResolvers = {
  id: (f) => f._id,
  community: (f) => ({ id: f.communityId }),
  building: (f) => (f.buildingId ? { id: f.buildingId } : null),
  quantityApprox: (f) => f.quantityApprox ?? false,
  history: (f) => f.history ?? [],
  sourceProject: (f, _a, { loaders }) => (f.sourceProjectId ? loaders.project.load(f.sourceProjectId) : null),
  cost: (f) => money(f.costFen, f.costApprox),
  maintainer: (f) => (f.maintainerUscc ? { uscc: f.maintainerUscc } : null),
  location: (f) => {
    const p = pointOf(f);
    return p ? { longitude: p[0], latitude: p[1] } : null;
  },
};
