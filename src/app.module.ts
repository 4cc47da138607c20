import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { AuthModule } from './auth/auth.module.js';
import { JwtAuthGuard, RolesGuard } from './auth/guards.js';
import { ActionItemsModule } from './action-items/action-items.module.js';
import { AgendaModule } from './agenda/agenda.module.js';
import { EtagInterceptor } from './common/etag.interceptor.js';
import { IdempotencyInterceptor } from './common/idempotency.interceptor.js';
import { MeetingsModule } from './meetings/meetings.module.js';
import { NotesModule } from './notes/notes.module.js';
import { ScheduleModule } from '@nestjs/schedule';
import { CalendarModule } from './calendar/calendar.module.js';
import { AuditModule } from './audit/audit.module.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { RemindersModule } from './reminders/reminders.module.js';
import { PolicyItemsModule } from './policy-items/policy-items.module.js';
import { ProblemDetailsFilter } from './common/problem-details.filter.js';
import type { AppConfig } from './config/config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { DelegationsModule } from './delegations/delegations.module.js';
import { HealthController } from './health/health.controller.js';
import { SeedingModule } from './seeding/seeding.module.js';
import { UsersModule } from './users/users.module.js';
import { WorkingGroupModule } from './working-group/working-group.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule,
        SeedingModule,
        AuthModule,
        UsersModule,
        DelegationsModule,
        WorkingGroupModule,
        MeetingsModule,
        AgendaModule,
        PolicyItemsModule,
        ActionItemsModule,
        NotesModule,
        ScheduleModule.forRoot(),
        NotificationsModule,
        RemindersModule,
        CalendarModule,
        AuditModule,
      ],
      controllers: [HealthController],
      providers: [
        { provide: APP_GUARD, useClass: JwtAuthGuard },
        { provide: APP_GUARD, useClass: RolesGuard },
        { provide: APP_INTERCEPTOR, useClass: EtagInterceptor },
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
    };
  }
}
