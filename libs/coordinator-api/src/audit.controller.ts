import { Controller, Get, Inject, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditEntry, VerifyResult, readAuditLog, verifyAuditLog } from '@medfed/audit';
import { Coordinator, CoordinatorError } from '@medfed/coordinator-core';
import { COORDINATOR, COORDINATOR_CONFIG } from './coordinator.tokens';
import { CoordinatorConfig } from './coordinator-config';
import { PrivacyOfficerGuard } from './privacy-officer.guard';

/** One site's contributions as the coordinator recorded them: counts, bytes and hashes only. */
export interface SiteAuditSummary {
  nodeId: string;
  name: string;
  contributions: number;
  bytesReceived: number;
  studies: Record<string, { contributions: number; bytes: number; rounds: number[] }>;
  /** SHA-256 of every accepted frame, so the site can match them against its own receipts. */
  frames: { studyId: string; round: number; kind: string; sha256: string; bytes: number }[];
}

/**
 * The coordinator's side of the audit trail, for privacy officers (read-only role): its own signed
 * log, whether it verifies, and what it holds about each site — one site at a time.
 */
@ApiTags('audit')
@ApiBearerAuth()
@UseGuards(PrivacyOfficerGuard)
@Controller('api/audit')
export class AuditController {
  constructor(
    @Inject(COORDINATOR) private readonly coordinator: Coordinator,
    @Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig,
  ) {}

  @Get('log')
  @ApiOperation({ summary: "The coordinator's audit log entries (hash-chained, signed)" })
  log(): AuditEntry[] {
    return readAuditLog(this.config.auditLogPath);
  }

  @Get('verify')
  @ApiOperation({ summary: "Verify the coordinator's audit log (chain and signatures)" })
  verify(): VerifyResult {
    return verifyAuditLog(this.config.auditLogPath);
  }

  @Get('sites/:nodeId')
  @ApiOperation({ summary: 'What the coordinator accepted from one site: counts, bytes and frame hashes' })
  site(@Param('nodeId') nodeId: string): SiteAuditSummary {
    const node = this.coordinator.store.getNode(nodeId);
    if (!node) throw new CoordinatorError('NOT_ENROLLED', `no node with id ${nodeId}`);
    const summary: SiteAuditSummary = { nodeId, name: node.name, contributions: 0, bytesReceived: 0, studies: {}, frames: [] };
    for (const entry of readAuditLog(this.config.auditLogPath)) {
      if (entry.event !== 'contribution.accepted' || entry.details['nodeId'] !== nodeId) continue;
      const d = entry.details as { studyId: string; round: number; kind: string; sha256: string; bytes: number };
      summary.contributions += 1;
      summary.bytesReceived += d.bytes;
      const study = (summary.studies[d.studyId] ??= { contributions: 0, bytes: 0, rounds: [] });
      study.contributions += 1;
      study.bytes += d.bytes;
      if (!study.rounds.includes(d.round)) study.rounds.push(d.round);
      summary.frames.push({ studyId: d.studyId, round: d.round, kind: d.kind, sha256: d.sha256, bytes: d.bytes });
    }
    return summary;
  }
}
