import { applyDecorators } from '@nestjs/common';
import { Field, Int } from '@nestjs/graphql';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { MAX_PAGE_SIZE } from '../adjustment.repository';

/** A page's `first` argument (every paged list: adjustments, approval requests, bulk adjustments, items). */
export function PageFirst(defaultValue: number): PropertyDecorator {
  return applyDecorators(
    Field(() => Int, { defaultValue, description: `1 to ${MAX_PAGE_SIZE}.` }),
    IsInt(),
    Min(1, { message: `must be 1 to ${MAX_PAGE_SIZE}` }),
    Max(MAX_PAGE_SIZE, { message: `must be 1 to ${MAX_PAGE_SIZE}` }),
  );
}

/** A page's `after` argument: the previous page's cursor (decoded, and refused if malformed, by pageStart). */
export function PageAfter(): PropertyDecorator {
  return applyDecorators(
    Field(() => String, { nullable: true, description: 'pageInfo.endCursor of the previous page.' }),
    IsOptional(),
    IsString(),
    Length(1, 200),
  );
}
