'use strict';
// The deploy parameters recorded with the stack, and the comparison a deploy makes against them.
//
// Values given with `--param` are stored nowhere by the framework: a later deploy that leaves
// one out silently deploys its default (without dbSecurityGroupId the database's ingress rule
// from the NLB is deleted; without createApiEndpoints the functions in the VPC lose the AWS
// APIs). So every package records the stage's effective parameters in the template's Metadata
// (`Metadata.RdsNlbSync.Parameters`), and deploy/parameter-guard.cjs compares them with the
// deployed template's before anything changes.
//
// Why the template's Metadata: it is part of the stack (rolled back with it, deleted with it),
// has no size limit short of the template's (mappings can be 8 KB; stack tags stop at 256
// characters), needs no extra resource or permission, and `aws cloudformation get-template`
// reads it back for a stage deployed without its params.<stage> block.
//
// Pure: no AWS call here; the guard plugin reads the deployed template.

const METADATA_KEY = 'RdsNlbSync';

// Stacks packaged before parameters were recorded still carry these as CloudFormation stack
// parameters (serverless.yml mirrors them for its Conditions): CloudFormation parameter -> deploy parameter.
const STACK_PARAMETER_NAMES = {
  SubnetIds: 'subnetIds',
  NlbSubnetIds: 'nlbSubnetIds',
  SecurityGroupIds: 'securityGroupIds',
  VpcId: 'vpcId',
  DbSecurityGroupId: 'dbSecurityGroupId',
  PrivateLink: 'createPrivateLink',
  ApiEndpoints: 'createApiEndpoints',
  AcceptInVpc: 'acceptInVpc',
  AlarmEmail: 'alarmEmail',
};

/** One parameter's value as text: lists "a,b", JSON lists and objects as compact JSON. */
function normalise(value) {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return value.map((v) => String(v).trim()).filter(Boolean).join(',');
    return JSON.stringify(value);
  }
  if (typeof value === 'object') return JSON.stringify(value);
  const text = String(value).trim();
  // A JSON list given as text (syncMappings): compared by content, not by its spacing.
  if (text.startsWith('[')) {
    try {
      return JSON.stringify(JSON.parse(text));
    } catch {
      return text;
    }
  }
  // Lists given as text ("subnet-a, subnet-b") compare like the same list in YAML.
  return text.split(',').map((part) => part.trim()).join(',');
}

/** The effective parameters (custom.params, resolved) as recorded: name -> text, sorted by name. */
function recordParameters(raw) {
  return Object.fromEntries(Object.keys(raw).sort().map((name) => [name, normalise(raw[name])]));
}

/** The template's Metadata entry for this service. */
function stackMetadata(raw, version) {
  return { [METADATA_KEY]: { Version: version, Parameters: recordParameters(raw) } };
}

/**
 * The parameters recorded in a deployed template (a template object, or the answer of
 * `aws cloudformation get-template`, whose TemplateBody is an object or a JSON string).
 * `{ source: 'metadata' }` from Metadata.RdsNlbSync; `{ source: 'stack-parameters' }` from the
 * stack parameters' defaults of a stack packaged before parameters were recorded.
 */
function recordedIn(templateOrAnswer) {
  let template = templateOrAnswer;
  if (template && typeof template === 'object' && 'TemplateBody' in template) template = template.TemplateBody;
  if (typeof template === 'string') template = JSON.parse(template);
  if (!template || typeof template !== 'object') throw new TypeError('not a CloudFormation template');
  const entry = template.Metadata?.[METADATA_KEY];
  if (entry?.Parameters) return { source: 'metadata', version: entry.Version, parameters: entry.Parameters };
  const parameters = {};
  for (const [cfnName, name] of Object.entries(STACK_PARAMETER_NAMES)) {
    const declared = template.Parameters?.[cfnName];
    if (declared && 'Default' in declared) parameters[name] = normalise(declared.Default);
  }
  return { source: 'stack-parameters', version: undefined, parameters };
}

/**
 * What this package does to the recorded values. `dropped`: a recorded value that is now
 * empty (or no longer a parameter); `changed`: a recorded value replaced by another; `added`:
 * a value where none was recorded. Dropped and changed stop a deploy unless confirmed.
 */
function parameterChanges(recorded, current) {
  const changes = [];
  const names = [...new Set([...Object.keys(recorded), ...Object.keys(current)])].sort();
  for (const name of names) {
    const from = recorded[name] ?? '';
    const to = current[name] ?? '';
    if (from === to) continue;
    if (!(name in current)) changes.push({ name, from, to, kind: from ? 'dropped' : 'added', gone: true });
    else if (!from) changes.push({ name, from, to, kind: 'added' });
    else if (!to) changes.push({ name, from, to, kind: 'dropped' });
    else changes.push({ name, from, to, kind: 'changed' });
  }
  return changes.filter((c) => !(c.gone && !c.from));
}

const isBlocking = (change) => change.kind === 'dropped' || change.kind === 'changed';

/** One line per change, values shortened, for the terminal. */
function describeChanges(changes) {
  const show = (value) => (value === '' ? '(not set)' : value.length > 120 ? `${value.slice(0, 117)}...` : value);
  return changes.map((c) => {
    const what = c.gone ? `${show(c.from)} -> (no longer a deploy parameter)` : `${show(c.from)} -> ${show(c.to)}`;
    return `${c.name}: ${what} [${c.kind}]`;
  });
}

module.exports = { METADATA_KEY, STACK_PARAMETER_NAMES, normalise, recordParameters, stackMetadata, recordedIn, parameterChanges, isBlocking, describeChanges };
