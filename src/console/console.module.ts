import { Module } from '@nestjs/common';
import { ConsoleStatic } from './console-static';

/** The support console's built files at /console/ (ConsoleStatic). */
@Module({ providers: [ConsoleStatic] })
export class ConsoleModule {}
