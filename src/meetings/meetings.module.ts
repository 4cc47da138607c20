import { Module } from '@nestjs/common';
import { MeetingsController } from './meetings.controller.js';
import { MeetingsService } from './meetings.service.js';
import { MinutesService } from './minutes.service.js';
import { OutcomesService } from './outcomes.service.js';

@Module({
  controllers: [MeetingsController],
  providers: [MeetingsService, MinutesService, OutcomesService],
})
export class MeetingsModule {}
