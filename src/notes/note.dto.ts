import { NEXT_CURSOR } from '../common/pagination.js';
import { ApiProperty } from '../common/swagger.js';
import { IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';
import { DELEGATIONS, type DelegationCode } from '../delegations/delegation.entity.js';

export class CreateNoteDto {
  @ApiProperty({ maxLength: 10000 })
  @IsString()
  @IsNotEmpty()
  @Matches(/\S/, { message: 'body must not be blank' })
  @MaxLength(10000)
  body!: string;
}

export class NoteDto {
  @ApiProperty({ maxLength: 36 }) id!: string;
  @ApiProperty({ maxLength: 10000 }) body!: string;
  @ApiProperty({ maxLength: 36 }) authorId!: string;
  @ApiProperty({
    enum: DELEGATIONS,
    description: "The author's; only that delegation sees the note",
  })
  delegation!: DelegationCode;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class NotePageDto {
  @ApiProperty({ type: [NoteDto] }) data!: NoteDto[];
  @ApiProperty(NEXT_CURSOR) nextCursor!: string | null;
}
