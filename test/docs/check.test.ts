import { describe, expect, it } from 'vitest';
import { checkCommand, checkJson, commandsOf, extractBlocks, paramNames, splitWords } from './check.js';
import { loadRules } from './rules.js';

const rules = loadRules();
const problemsOf = (sh: string) => commandsOf(extractBlocks(`\`\`\`sh\n${sh}\n\`\`\``, 'x.md')[0]!).flatMap((c) => checkCommand(c.argv, rules));

describe('extractBlocks', () => {
  it('reads the fence info: language, runnable, expected exit code and file name', () => {
    const md = ['text', '```sh runnable exit=2', 'npx rds-nlb-sync nope', '```', '', '```json file=a.json', '{}', '```'].join('\n');

    const blocks = extractBlocks(md, 'x.md');

    expect(blocks).toEqual([
      { file: 'x.md', line: 2, lang: 'sh', runnable: true, exit: 2, text: 'npx rds-nlb-sync nope' },
      { file: 'x.md', line: 6, lang: 'json', runnable: false, exit: 0, writeTo: 'a.json', text: '{}' },
    ]);
  });

  it('takes blocks indented under a list item, without the indent', () => {
    const blocks = extractBlocks('1. Deploy:\n\n   ```sh\n   npm ci\n   ```\n', 'x.md');

    expect(blocks.map((b) => b.text)).toEqual(['npm ci']);
  });

  it('refuses a block that is never closed', () => {
    expect(() => extractBlocks('```sh\nnpm ci\n', 'x.md')).toThrow('x.md:1: code block never closed');
  });
});

describe('commandsOf', () => {
  it('joins continued lines, drops comments and keeps quoted words whole', () => {
    const [block] = extractBlocks(["```sh", "npx serverless invoke -f sync \\", "  --stage prod --data '{\"force\":true}'   # re-register", '```'].join('\n'), 'x.md');

    expect(commandsOf(block!)).toEqual([
      { line: 2, source: `npx serverless invoke -f sync    --stage prod --data '{"force":true}'`, argv: ['npx', 'serverless', 'invoke', '-f', 'sync', '--stage', 'prod', '--data', '{"force":true}'] },
    ]);
  });

  it('keeps a # inside quotes', () => {
    expect(splitWords(`echo "a # b" c`).argv).toEqual(['echo', 'a # b', 'c']);
  });
});

describe('checkCommand against the real rules', () => {
  it('accepts the commands the docs show', () => {
    expect(problemsOf(["npx serverless invoke -f sync --stage prod --data '{\"dryRun\":true}'", 'npx serverless logs -f sync --stage prod --startTime 30m', 'npm ci', 'npm test', 'npm run local -- --verbose', 'npx rds-nlb-sync doctor -c rds-nlb-sync.prod.json --stage prod'].join('\n'))).toEqual([]);
  });

  it('refuses serverless invoke without --stage (it fails on the parameter error)', () => {
    expect(problemsOf(`npx serverless invoke -f sync --data '{"force":true}'`)).toEqual([
      'serverless invoke without --stage uses stage "dev", which has no params: add --stage <stage>',
    ]);
  });

  it('takes the upgrade page\'s git steps and nothing else of git', () => {
    expect(problemsOf('git pull\ngit checkout v0.1.0')).toEqual([]);
    expect(problemsOf('git push --force')).toEqual(['git: only pull, fetch, checkout <ref> and log are shown']);
  });

  it('refuses serverless without npx (not on PATH after npm ci)', () => {
    expect(problemsOf('serverless invoke -f accept --stage prod')).toEqual([
      'no rule for "serverless" commands (see docs/README.md): run it in a "sh runnable" block, or give it a rule in test/docs/check.ts',
    ]);
  });

  it('refuses an unknown serverless command, flag or --param name', () => {
    expect(problemsOf('npx serverless deploy --stage prod --dataa x --param "rdsEndpiont=db"')).toEqual([
      'serverless deploy takes no --dataa',
      "--param rdsEndpiont is not in serverless.yml's custom.params",
    ]);
    expect(problemsOf('npx serverless depoly --stage prod')).toEqual(['serverless has no command "depoly"']);
  });

  it('refuses a CLI command line its own parser refuses', () => {
    expect(problemsOf('npx rds-nlb-sync sync --endpont db.example.com')[0]).toMatch(/^rds-nlb-sync refuses it: .*endpont/);
  });

  it('checks fivetran link|status against the flags of that command', () => {
    expect(problemsOf('npx rds-nlb-sync fivetran link --service-id vpce-svc-0123456789abcdef0 --json')).toEqual([]);
    expect(problemsOf('npx rds-nlb-sync fivetran status --service-id vpce-svc-0123456789abcdef0')).toEqual([]);
    expect(problemsOf('npx rds-nlb-sync fivetran link --dry-run')[0]).toMatch(/^rds-nlb-sync refuses it: .*dry-run/);
    expect(problemsOf('npx rds-nlb-sync fivetran unlink --service-id vpce-svc-0123456789abcdef0 --yes')).toEqual([]);
    expect(problemsOf('npx rds-nlb-sync fivetran remove')[0]).toMatch(/^rds-nlb-sync refuses it: unknown fivetran command "remove"/);
  });

  it('takes export NAME=value and read NAME, and refuses an export that is not NAME=value', () => {
    expect(problemsOf(["export AWS_REGION=eu-west-1", "read -rsp 'Fivetran API secret: ' FIVETRAN_API_SECRET", 'export FIVETRAN_API_SECRET'].join('\n'))).toEqual([]);
    expect(problemsOf('export aws-region eu-west-1')).toEqual(['export takes NAME=value or NAME words, not "aws-region", "eu-west-1"']);
    expect(problemsOf('read -rsp Secret:')).toEqual(['read needs the name of the variable to set']);
  });

  it('refuses placeholders that fail when copied', () => {
    expect(problemsOf('npx rds-nlb-sync sync   ... same flags ...')).toEqual(['placeholder ... ... fails when copied: write a value that parses']);
  });

  it('refuses an npm script that package.json lacks', () => {
    expect(problemsOf('npm run nope')).toEqual(['package.json has no script "nope"']);
  });
});

describe('checkJson', () => {
  it('refuses a json block with a // comment (a .json file cannot have one)', () => {
    const [block] = extractBlocks('```json\n// rds-nlb-sync.prod.json\n{ "DNS_TRIES": 2 }\n```', 'x.md');

    expect(checkJson(block!)[0]).toMatch(/^not JSON: /);
  });
});

describe('paramNames', () => {
  it('reads the keys under custom.params only', () => {
    const yml = ['provider:', '  params:', '    notThis: 1', 'custom:', '  params:', '    # a comment', '    rdsEndpoint: ${param:rdsEndpoint}', '    dnsTries: 2', '  deploy: x', 'functions:'].join('\n');

    expect([...paramNames(yml)]).toEqual(['rdsEndpoint', 'dnsTries']);
  });
});
