// Placeholder: replaced by the real handler (issue 2).
export const handler = async () => ({ ok: true });
