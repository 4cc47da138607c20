import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import type { Transporter } from 'nodemailer';
import { APP_CONFIG, type AppConfig } from '../config/config.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  /** Stable per reminder, so that a retried delivery is recognisable as the same message. */
  messageId: string;
}

/**
 * nodemailer waits up to 2 minutes to connect and 10 on a silent socket, per message; a
 * server that stops answering would hold a reminder pass for hours. Query parameters of
 * SMTP_URL (e.g. ?socketTimeout=60000) still override these.
 */
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

/** E-mail over SMTP when SMTP_URL is set; without it, delivery is in-app only. */
@Injectable()
export class Mailer implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(Mailer.name);
  private transport: Transporter | null = null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** nodemailer (~40 modules, 650 KiB of code) is loaded at start only when SMTP_URL is set. */
  async onModuleInit(): Promise<void> {
    if (this.config.smtpUrl) {
      const { default: nodemailer } = await import('nodemailer');
      this.transport = nodemailer.createTransport({ url: this.config.smtpUrl, ...TIMEOUTS });
    }
  }

  get enabled(): boolean {
    return this.transport !== null;
  }

  /**
   * Sends one message: `sent`; `retry` when the server cannot be reached or refuses for now
   * (4xx); `refused` when it refuses for good (5xx), which no retry would change.
   */
  async send(mail: Mail): Promise<'sent' | 'retry' | 'refused'> {
    if (!this.transport) {
      return 'refused';
    }
    try {
      await this.transport.sendMail({
        from: this.config.smtpFrom,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        messageId: mail.messageId,
      });
      return 'sent';
    } catch (error) {
      this.logger.warn(`E-mail ${mail.messageId} not sent: ${(error as Error).message}`);
      const code = (error as { responseCode?: number }).responseCode;
      return code !== undefined && code >= 500 ? 'refused' : 'retry';
    }
  }

  onModuleDestroy(): void {
    this.transport?.close();
  }
}
