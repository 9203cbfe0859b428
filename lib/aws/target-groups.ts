// The ELBv2 adapter for discovery: every target group of the account and region, with its tags.
//
// Which API: ELBv2's own DescribeTargetGroups (paginated, 400 a page) + DescribeTags (at most 20
// ARNs a call), not the Resource Groups Tagging API's GetResources. GetResources would find the
// tagged ARNs in one paginated call, but discovery needs each group's type, protocol, port and
// address type anyway (DescribeTargetGroups), the tagging API is a second client in the Lambda
// bundle, a second IAM action (tag:GetResources) and, in a VPC, a second interface endpoint
// (com.amazonaws.<region>.tagging); and its index lags tag changes. With ELBv2 the calls go to the
// API and endpoint sync already uses: 1,000 groups are 3 listing pages and 50 DescribeTags calls.
import {
  DescribeTagsCommand,
  paginateDescribeTargetGroups,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import pLimit from 'p-limit';
import type { TargetGroupFacts } from '../sync/discovery.js';

/** DescribeTags takes at most 20 resource ARNs per call. */
export const DESCRIBE_TAGS_BATCH = 20;
/** DescribeTags calls in flight at once: well under ELB's describe rate limits. */
const TAG_CONCURRENCY = 4;

/**
 * Every target group carrying one of `keys`, with its tags. Any failed call fails the whole listing
 * (the caller treats it as unknown, never as "no groups").
 */
export async function listTaggedTargetGroups(elb: ElasticLoadBalancingV2Client, keys: string[]): Promise<TargetGroupFacts[]> {
  const groups: TargetGroupFacts[] = [];
  for await (const page of paginateDescribeTargetGroups({ client: elb, pageSize: 400 }, {})) {
    for (const g of page.TargetGroups ?? []) {
      if (!g.TargetGroupArn) continue;
      groups.push({
        arn: g.TargetGroupArn,
        name: g.TargetGroupName ?? g.TargetGroupArn,
        targetType: g.TargetType ?? 'unknown',
        protocol: g.Protocol ?? 'unknown',
        ...(g.Port !== undefined ? { port: g.Port } : {}),
        ipAddressType: g.IpAddressType ?? 'ipv4',
        tags: {},
      });
    }
  }
  const byArn = new Map(groups.map((g) => [g.arn, g]));
  const batches: string[][] = [];
  for (let i = 0; i < groups.length; i += DESCRIBE_TAGS_BATCH) batches.push(groups.slice(i, i + DESCRIBE_TAGS_BATCH).map((g) => g.arn));
  const limit = pLimit(TAG_CONCURRENCY);
  await Promise.all(
    batches.map((ResourceArns) =>
      limit(async () => {
        const out = await elb.send(new DescribeTagsCommand({ ResourceArns }));
        for (const d of out.TagDescriptions ?? []) {
          const group = d.ResourceArn ? byArn.get(d.ResourceArn) : undefined;
          if (!group) continue;
          for (const t of d.Tags ?? []) if (t.Key !== undefined) group.tags[t.Key] = t.Value ?? '';
        }
      }),
    ),
  );
  return groups.filter((g) => keys.some((k) => k in g.tags));
}
