// Placeholder: replaced by the real handler (issue 3).
export const handler = async () => ({ ok: true });
