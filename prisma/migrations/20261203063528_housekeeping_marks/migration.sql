-- CreateTable
CREATE TABLE "housekeeping_marks" (
    "name" TEXT NOT NULL,
    "done_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "housekeeping_marks_pkey" PRIMARY KEY ("name")
);
