import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import nodemailer, { type Transporter } from 'nodemailer';
import { APP_CONFIG, type AppConfig } from '../config/config.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  /** Stable per reminder, so that a retried delivery is recognisable as the same message. */
  messageId: string;
}

/** E-mail over SMTP when SMTP_URL is set; without it, delivery is in-app only. */
@Injectable()
export class Mailer implements OnModuleDestroy {
  private readonly logger = new Logger(Mailer.name);
  private readonly transport: Transporter | null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.transport = config.smtpUrl ? nodemailer.createTransport(config.smtpUrl) : null;
  }

  get enabled(): boolean {
    return this.transport !== null;
  }

  /** Sends one message; false (and a log line) when the server refuses or cannot be reached. */
  async send(mail: Mail): Promise<boolean> {
    if (!this.transport) {
      return false;
    }
    try {
      await this.transport.sendMail({
        from: this.config.smtpFrom,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        messageId: mail.messageId,
      });
      return true;
    } catch (error) {
      this.logger.warn(`E-mail ${mail.messageId} not sent: ${(error as Error).message}`);
      return false;
    }
  }

  onModuleDestroy(): void {
    this.transport?.close();
  }
}
