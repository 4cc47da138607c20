import { Module } from '@nestjs/common';
import { PolicyItemsController } from './policy-items.controller.js';
import { PolicyItemsService } from './policy-items.service.js';

@Module({ controllers: [PolicyItemsController], providers: [PolicyItemsService] })
export class PolicyItemsModule {}
