import { Module } from '@nestjs/common';
import { ActionItemUpdatesService } from './action-item-updates.service.js';
import { ActionItemsController, MyActionItemsController } from './action-items.controller.js';
import { ActionItemsService } from './action-items.service.js';

@Module({
  controllers: [MyActionItemsController, ActionItemsController],
  providers: [ActionItemsService, ActionItemUpdatesService],
})
export class ActionItemsModule {}
