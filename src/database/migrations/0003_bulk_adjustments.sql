CREATE TABLE "bulk_adjustments" (
	"id" text PRIMARY KEY NOT NULL,
	"idempotency_key" text,
	"fingerprint" text NOT NULL,
	"currency" text NOT NULL,
	"reason" text NOT NULL,
	"status" text NOT NULL,
	"created_by_operator_id" text,
	"created_by_name" text NOT NULL,
	"created_by_role" text NOT NULL,
	"created_by_on_behalf_of" text,
	"total" integer DEFAULT 0 NOT NULL,
	"lease_owner" text,
	"lease_expires_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp (3) with time zone,
	"finished_at" timestamp (3) with time zone,
	CONSTRAINT "bulk_adjustments_status_check" CHECK ("bulk_adjustments"."status" in ('DRAFT', 'RUNNING', 'COMPLETED', 'CANCELLED')),
	CONSTRAINT "bulk_adjustments_created_by_role_check" CHECK ("bulk_adjustments"."created_by_role" in ('VIEWER', 'AGENT', 'SUPERVISOR', 'ADMIN')),
	CONSTRAINT "bulk_adjustments_total_check" CHECK ("bulk_adjustments"."total" >= 0 and "bulk_adjustments"."total" <= 100000),
	CONSTRAINT "bulk_adjustments_lease_check" CHECK (("bulk_adjustments"."lease_owner" is null) = ("bulk_adjustments"."lease_expires_at" is null)),
	CONSTRAINT "bulk_adjustments_started_check" CHECK ("bulk_adjustments"."status" = 'CANCELLED' or ("bulk_adjustments"."status" = 'DRAFT') = ("bulk_adjustments"."started_at" is null)),
	CONSTRAINT "bulk_adjustments_finished_check" CHECK (("bulk_adjustments"."status" in ('COMPLETED', 'CANCELLED')) = ("bulk_adjustments"."finished_at" is not null))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "bulk_adjustments_idempotency_key_key" ON "bulk_adjustments" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "bulk_adjustments_created_idx" ON "bulk_adjustments" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "bulk_adjustments_running_idx" ON "bulk_adjustments" USING btree ("started_at","id") WHERE "bulk_adjustments"."status" = 'RUNNING';