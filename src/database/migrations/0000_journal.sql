CREATE TABLE "adjustments" (
	"id" text PRIMARY KEY NOT NULL,
	"idempotency_key" text NOT NULL,
	"fingerprint" text NOT NULL,
	"user_id" text NOT NULL,
	"currency" text NOT NULL,
	"amount" integer NOT NULL,
	"reason" text NOT NULL,
	"status" text NOT NULL,
	"error_code" text,
	"error_message" text,
	"error_details" jsonb,
	"balance" integer,
	"balances" jsonb,
	"upstream_key" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"actor_operator_id" text,
	"actor_name" text NOT NULL,
	"actor_role" text NOT NULL,
	"actor_on_behalf_of" text,
	"approval_request_id" text,
	"approved_by_operator_id" text,
	"approved_by_name" text,
	"approved_by_role" text,
	"approved_by_on_behalf_of" text,
	"reverses_id" text,
	"reversed_by_id" text,
	"bulk_adjustment_id" text,
	"lease_token" text,
	"lease_expires_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"settled_at" timestamp (3) with time zone,
	CONSTRAINT "adjustments_status_check" CHECK ("adjustments"."status" in ('QUEUED', 'PENDING', 'APPLIED', 'REJECTED', 'UNKNOWN', 'CANCELLED')),
	CONSTRAINT "adjustments_actor_role_check" CHECK ("adjustments"."actor_role" in ('VIEWER', 'AGENT', 'SUPERVISOR', 'ADMIN')),
	CONSTRAINT "adjustments_amount_check" CHECK ("adjustments"."amount" <> 0 and abs("adjustments"."amount") <= 2000000000),
	CONSTRAINT "adjustments_lease_check" CHECK (("adjustments"."lease_token" is null) = ("adjustments"."lease_expires_at" is null))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "adjustments_idempotency_key_key" ON "adjustments" USING btree ("idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "adjustments_one_live_reversal" ON "adjustments" USING btree ("reverses_id") WHERE "adjustments"."reverses_id" is not null and "adjustments"."status" in ('PENDING', 'UNKNOWN', 'APPLIED');--> statement-breakpoint
CREATE INDEX "adjustments_created_idx" ON "adjustments" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "adjustments_user_created_idx" ON "adjustments" USING btree ("user_id","created_at","id");--> statement-breakpoint
CREATE INDEX "adjustments_operator_created_idx" ON "adjustments" USING btree ("actor_operator_id","created_at","id");--> statement-breakpoint
CREATE INDEX "adjustments_bulk_created_idx" ON "adjustments" USING btree ("bulk_adjustment_id","created_at","id");--> statement-breakpoint
CREATE INDEX "adjustments_bulk_status_created_idx" ON "adjustments" USING btree ("bulk_adjustment_id","status","created_at","id");--> statement-breakpoint
CREATE INDEX "adjustments_status_created_idx" ON "adjustments" USING btree ("status","created_at","id");--> statement-breakpoint
CREATE INDEX "adjustments_currency_created_idx" ON "adjustments" USING btree ("currency","created_at","id");