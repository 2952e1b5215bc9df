CREATE TABLE "approval_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"idempotency_key" text NOT NULL,
	"fingerprint" text NOT NULL,
	"user_id" text NOT NULL,
	"currency" text NOT NULL,
	"amount" integer NOT NULL,
	"reason" text NOT NULL,
	"requested_by_operator_id" text,
	"requested_by_name" text NOT NULL,
	"requested_by_role" text NOT NULL,
	"requested_by_on_behalf_of" text,
	"status" text NOT NULL,
	"decided_by_operator_id" text,
	"decided_by_name" text,
	"decided_by_role" text,
	"decided_by_on_behalf_of" text,
	"decided_at" timestamp (3) with time zone,
	"decision_reason" text,
	"adjustment_id" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "approval_requests_status_check" CHECK ("approval_requests"."status" in ('PENDING', 'APPROVED', 'REJECTED', 'EXPIRED')),
	CONSTRAINT "approval_requests_requested_by_role_check" CHECK ("approval_requests"."requested_by_role" in ('VIEWER', 'AGENT', 'SUPERVISOR', 'ADMIN')),
	CONSTRAINT "approval_requests_decided_by_role_check" CHECK ("approval_requests"."decided_by_role" is null or "approval_requests"."decided_by_role" in ('VIEWER', 'AGENT', 'SUPERVISOR', 'ADMIN')),
	CONSTRAINT "approval_requests_amount_check" CHECK ("approval_requests"."amount" <> 0 and abs("approval_requests"."amount") <= 2000000000),
	CONSTRAINT "approval_requests_decision_check" CHECK (("approval_requests"."status" in ('APPROVED', 'REJECTED')) = ("approval_requests"."decided_at" is not null and "approval_requests"."decided_by_name" is not null)),
	CONSTRAINT "approval_requests_adjustment_check" CHECK ("approval_requests"."adjustment_id" is null or "approval_requests"."status" = 'APPROVED')
);
--> statement-breakpoint
CREATE TABLE "operators" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"max_adjustment" integer,
	"daily_limit" integer,
	"token_hash" text NOT NULL,
	"token_prefix" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_by_operator_id" text,
	"created_by_name" text NOT NULL,
	"created_by_role" text NOT NULL,
	"created_by_on_behalf_of" text,
	"revoked_at" timestamp (3) with time zone,
	"last_used_at" timestamp (3) with time zone,
	CONSTRAINT "operators_role_check" CHECK ("operators"."role" in ('VIEWER', 'AGENT', 'SUPERVISOR', 'ADMIN')),
	CONSTRAINT "operators_created_by_role_check" CHECK ("operators"."created_by_role" in ('VIEWER', 'AGENT', 'SUPERVISOR', 'ADMIN')),
	CONSTRAINT "operators_max_adjustment_check" CHECK ("operators"."max_adjustment" is null or "operators"."max_adjustment" > 0),
	CONSTRAINT "operators_daily_limit_check" CHECK ("operators"."daily_limit" is null or "operators"."daily_limit" > 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX "approval_requests_idempotency_key_key" ON "approval_requests" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "approval_requests_created_idx" ON "approval_requests" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "approval_requests_status_created_idx" ON "approval_requests" USING btree ("status","created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "operators_token_hash_key" ON "operators" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "operators_created_idx" ON "operators" USING btree ("created_at","id");