/** +14155550100 -> +1415*****00: enough to recognise, not enough to call. */
export function maskPhone(phone: string): string {
  if (phone.length <= 6) return '*'.repeat(phone.length);
  return phone.slice(0, 5) + '*'.repeat(phone.length - 7) + phone.slice(-2);
}

/** john.doe@example.com -> j*******@example.com */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return email[0] + '*'.repeat(Math.max(at - 1, 3)) + email.slice(at);
}
