import { DescribeTagsCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DESCRIBE_TAGS_BATCH, listTaggedTargetGroups } from '../../lib/aws/target-groups.js';

const elbMock = mockClient(ElasticLoadBalancingV2Client);
const elb = new ElasticLoadBalancingV2Client({ region: 'eu-west-1' });
const arn = (i: number) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg-${i}/${String(i).padStart(16, '0')}`;
const KEY = 'rds-nlb-sync:endpoint';

afterEach(() => elbMock.reset());

describe('listTaggedTargetGroups', () => {
  it('pages through DescribeTargetGroups and asks DescribeTags 20 ARNs at a time, keeping the tagged groups', async () => {
    const page = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => ({ TargetGroupArn: arn(from + k), TargetGroupName: `tg-${from + k}`, TargetType: 'ip' as const, Protocol: 'TCP' as const, Port: 5432 }));
    elbMock.on(DescribeTargetGroupsCommand).resolvesOnce({ TargetGroups: page(0, 30), NextMarker: 'm1' }).resolvesOnce({ TargetGroups: page(30, 45) });
    elbMock.on(DescribeTagsCommand).callsFake(({ ResourceArns }: { ResourceArns: string[] }) => ({
      TagDescriptions: ResourceArns.map((a) => ({ ResourceArn: a, Tags: a === arn(7) || a === arn(41) ? [{ Key: KEY, Value: 'db.abc.eu-west-1.rds.amazonaws.com' }] : [{ Key: 'team', Value: 'x' }] })),
    }));

    const groups = await listTaggedTargetGroups(elb, [KEY]);

    expect(groups.map((g) => g.arn)).toEqual([arn(7), arn(41)]);
    expect(groups[0]).toEqual({ arn: arn(7), name: 'tg-7', targetType: 'ip', protocol: 'TCP', port: 5432, ipAddressType: 'ipv4', tags: { [KEY]: 'db.abc.eu-west-1.rds.amazonaws.com' } });
    expect(elbMock).toHaveReceivedCommandTimes(DescribeTargetGroupsCommand, 2);
    expect(elbMock).toHaveReceivedCommandWith(DescribeTargetGroupsCommand, { Marker: 'm1' });
    const batches = elbMock.commandCalls(DescribeTagsCommand).map((c) => c.args[0].input.ResourceArns?.length);
    expect(batches).toEqual([DESCRIBE_TAGS_BATCH, DESCRIBE_TAGS_BATCH, 5]);
  });

  it('fails the whole listing when one DescribeTags call fails (unknown, not fewer groups)', async () => {
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: Array.from({ length: 25 }, (_, i) => ({ TargetGroupArn: arn(i) })) });
    elbMock.on(DescribeTagsCommand).resolvesOnce({ TagDescriptions: [] }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(listTaggedTargetGroups(elb, [KEY])).rejects.toThrow('Rate exceeded');
  });

  it('makes no DescribeTags call when the account has no target group', async () => {
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
    await expect(listTaggedTargetGroups(elb, [KEY])).resolves.toEqual([]);
    expect(elbMock).toHaveReceivedCommandTimes(DescribeTagsCommand, 0);
  });
});
