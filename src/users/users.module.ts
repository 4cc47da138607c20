import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { MeController, UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [AuthModule],
  controllers: [UsersController, MeController],
  providers: [UsersService],
})
export class UsersModule {}
