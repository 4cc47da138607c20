import { Module } from '@nestjs/common';
import { WorkingGroupController } from './working-group.controller.js';
import { WorkingGroupService } from './working-group.service.js';

@Module({ controllers: [WorkingGroupController], providers: [WorkingGroupService] })
export class WorkingGroupModule {}
