import nodemailer from 'nodemailer';
import type { MailTransport } from './service.js';

/**
 * Sends through SMTP_URL (e.g. smtps://user:pass@smtp.example.com:465, or add ?pool=true
 * to reuse connections). nodemailer upgrades with STARTTLS when the server offers it.
 */
export function smtpTransport(url: string): MailTransport {
  const transporter = nodemailer.createTransport(url);
  return {
    async send(mail) {
      await transporter.sendMail({ from: mail.from, to: mail.to, subject: mail.subject, text: mail.text });
    },
    close() {
      transporter.close();
    },
  };
}
