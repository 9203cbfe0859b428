import 'aws-sdk-client-mock-vitest/extend';

// No test may reach AWS: a region and dummy credentials keep the SDK from looking further.
process.env.AWS_REGION ??= 'eu-west-1';
process.env.AWS_ACCESS_KEY_ID ??= 'testing';
process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// Tests run on Node 20 (Lambda runs 22): the SDK's Node-version notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
