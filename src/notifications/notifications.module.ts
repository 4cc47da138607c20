import { Global, Module } from '@nestjs/common';
import { Mailer } from './mailer.js';
import { NotificationsController } from './notifications.controller.js';
import { NotificationsService } from './notifications.service.js';

@Global()
@Module({
  controllers: [NotificationsController],
  providers: [NotificationsService, Mailer],
  exports: [Mailer],
})
export class NotificationsModule {}
