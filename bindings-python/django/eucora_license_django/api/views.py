"""The API views of Part E (DRF). Each view is thin: it resolves the organisation and
the user's D1 actor (from the database, never from the request), authorises the
endpoint's action *before* reading the body (a refused request is 403 whatever its
body, with exactly one audit entry), then calls a service; every number, decision
and hash comes from the core through the services.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

import eucora_license as el
from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import APIException
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..conf import resolve_organization
from ..models import AuditLog, ImportJob, Organization
from ..services import agents as agent_service
from ..services import governance as gov
from ..services import imports as import_service
from ..services import proposals as proposal_service
from ..services import queries
from ..services import runs as run_service
from ..services.governance import LicenseServiceError
from . import serializers as s
from .correlation import HEADER, correlation_id
from .errors import exception_handler

ERRORS: dict[int, OpenApiResponse] = {
    400: OpenApiResponse(s.ErrorSerializer, description="bad input: the core's error code and location"),
    401: OpenApiResponse(s.ErrorSerializer, description="not authenticated"),
    403: OpenApiResponse(s.ErrorSerializer, description="refused: the D1 / D2 reason code and the action"),
    404: OpenApiResponse(s.ErrorSerializer, description="unknown id or organisation"),
}
CONFLICT = {409: OpenApiResponse(s.ErrorSerializer, description="already_applied, expired or rejected")}
CORRELATION = OpenApiParameter(HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                               description="echoed when it matches [A-Za-z0-9._:-]{1,128}, else a new UUID")


def _bad(field: str, message: str) -> gov.BadInput:
    return gov.BadInput("invalid_input", message, location={"file": None, "line": None, "field": field})


def listing(results: list[Any]) -> dict[str, Any]:
    """Part E's list shape; every list is answered whole (``next`` null)."""
    return {"results": results, "next": None}


def job_dict(job: ImportJob) -> dict[str, Any]:
    """An ``ImportJob`` as data, with its row errors."""
    return {"id": job.pk, "job_id": job.job_id, "adapter": job.adapter, "source": job.source, "file_name": job.file_name,
            "input_hash": job.input_hash, "size": job.size, "rows_total": job.rows_total, "rows_accepted": job.rows_accepted,
            "rows_rejected": job.rows_rejected, "row_errors": job.row_errors, "warnings": job.warnings, "status": job.status,
            "created_at": gov.rfc3339(job.created_at), "created_by": job.created_by, "correlation_id": job.correlation_id}


Handler = Callable[..., Response]


def governed_write(handler: Handler) -> Handler:
    """A write handler in ONE database transaction: D1 authorisation, the change and
    its audit entry (the services' own ``atomic`` blocks are savepoints inside it).
    A refusal or an error the view answers (403 / 400 / 404 / 409) does not roll
    back the transaction: the change was already undone by its savepoint, and the
    refusal's (or failure's) audit entry is committed with it."""

    @functools.wraps(handler)
    def wrapper(self: LicenseAPIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        failure: Exception | None = None
        with transaction.atomic():
            try:
                return handler(self, request, *args, **kwargs)
            except (LicenseServiceError, el.EucoraLicenseError, APIException) as exc:
                self.record_failed_write(exc)
                failure = exc
        raise failure

    return wrapper


class LicenseAPIView(APIView):
    """Base of every API view: token then session authentication (an unauthenticated
    request is 401), JSON only (JSON when ``Accept`` is absent), the correlation id on
    every response, the app's error bodies, ``self.organization`` and ``self.actor``."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    organization: Organization
    actor: dict[str, Any]

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        correlation_id(request._request)
        super().initial(request, *args, **kwargs)
        organization = resolve_organization(request._request)
        if organization is None:
            raise gov.NotFound("organization_not_found", "no organisation for this request")
        self.organization = organization
        self.actor = gov.actor_for(request.user)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        response[HEADER] = correlation_id(request._request)
        return response

    @property
    def correlation_id(self) -> str:
        return correlation_id(self.request._request)

    def require(self, action: str, entity: tuple[str, str] = ("", "")) -> None:
        """D1 for ``action``; refused: one audit entry (committed) and 403 with the reason.

        Allowed: remembers the action and how many entries carry the request's
        correlation id, so a write that then fails (400, 404, 409) without an entry of
        its own still appends exactly one (:meth:`handle_exception`)."""
        gov.require(self.organization, self.actor, action, correlation_id=self.correlation_id, entity=entity)
        self._authorized = (action, entity, self._entries_of_request())

    def _entries_of_request(self) -> int:
        return AuditLog.objects.filter(organization=self.organization, correlation_id=self.correlation_id).count()

    def record_failed_write(self, exc: Exception) -> None:
        """Every API write, allowed or refused, appends exactly one audit entry: an
        authorised write that failed before its service appended one records the
        failure (``details``: ``outcome`` ``error``, the error ``code``)."""
        authorized = getattr(self, "_authorized", None)
        if authorized is None:
            return
        action, entity, before = authorized
        if self._entries_of_request() != before:
            return
        if isinstance(exc, LicenseServiceError):
            code = exc.code
        elif isinstance(exc, APIException):
            codes = exc.get_codes()
            code = codes if isinstance(codes, str) else "invalid_input"
        else:
            code = str(getattr(exc, "code", "error"))
        with transaction.atomic():
            gov.append_audit(self.organization, actor=self.actor, action=action, entity=entity, correlation_id=self.correlation_id,
                             details={"allowed": True, "reason": "allowed", "outcome": "error", "code": code})

    def body_object(self) -> dict[str, Any]:
        """The JSON body as an object (an empty body is ``{}``); read only after authorising."""
        data: Any = self.request.data
        if not data:
            return {}
        if not isinstance(data, dict):
            raise _bad("", "the body must be a JSON object")
        return dict(data)


# ------------------------------------------------------------------------------- reads


class SummaryView(LicenseAPIView):
    @extend_schema(operation_id="licenses_summary", parameters=[CORRELATION], responses={200: s.SummarySerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        """The A8 sidebar over the latest successful snapshot (``view.sidebar``)."""
        self.require("view.sidebar")
        return Response(queries.summary(self.organization))


def _days(request: Request, default: int) -> int:
    raw = request.query_params.get("days")
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 366:
        raise _bad("days", "days must be an integer from 1 to 366")
    return int(raw)


class SkuListView(LicenseAPIView):
    @extend_schema(
        operation_id="licenses_skus_list",
        parameters=[CORRELATION, *[OpenApiParameter(f, OpenApiTypes.STR, required=False) for f in queries.SKU_FILTERS],
                    OpenApiParameter("days", OpenApiTypes.INT, required=False, description="trend window, 30 (default) or 90")],
        responses={200: s.ListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        """The latest counters per SKU with a trend of consumed (``view.dashboard``)."""
        self.require("view.dashboard")
        filters = {k: v for k in queries.SKU_FILTERS if (v := request.query_params.get(k))}
        return Response(listing(queries.sku_list(self.organization, filters=filters, days=_days(request, 30))))


class SkuDetailView(LicenseAPIView):
    @extend_schema(operation_id="licenses_skus_retrieve", parameters=[CORRELATION], responses={200: s.SkuDetailSerializer, **ERRORS})
    def get(self, request: Request, sku: str) -> Response:
        """Counters, pools, the snapshot timeline with diffs, breakdowns (``view.dashboard``)."""
        self.require("view.dashboard", ("sku", sku))
        return Response(queries.sku_detail(self.organization, sku, days=_days(request, 90)))


def _instant(request: Request, name: str) -> dt.datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(raw), dt.time(), tzinfo=dt.UTC)
        return gov.parse_instant(raw)
    except ValueError:
        raise _bad(name, f"{name} must be an RFC 3339 instant or a date YYYY-MM-DD") from None


class SnapshotsView(LicenseAPIView):
    @extend_schema(operation_id="licenses_snapshots_list",
                   parameters=[CORRELATION, OpenApiParameter("from", OpenApiTypes.STR, required=False),
                               OpenApiParameter("to", OpenApiTypes.STR, required=False)],
                   responses={200: s.ListSerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        """Snapshots by time, oldest first (``view.dashboard``)."""
        self.require("view.dashboard")
        start, end = _instant(request, "from"), _instant(request, "to")
        return Response(listing(queries.snapshots(self.organization, start=start, end=end)))


class AlertsView(LicenseAPIView):
    @extend_schema(operation_id="licenses_alerts_list", parameters=[CORRELATION], responses={200: s.ListSerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        """The active C2 alerts (``view.alerts``)."""
        self.require("view.alerts")
        return Response(listing(queries.alerts(self.organization)))


class RecommendationsView(LicenseAPIView):
    @extend_schema(operation_id="licenses_recommendations_list", parameters=[CORRELATION],
                   responses={200: s.ListSerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        """C3 recommendations, ranked (``view.recommendations``)."""
        self.require("view.recommendations")
        return Response(listing(queries.recommendations(self.organization)))


class EvidenceView(LicenseAPIView):
    @extend_schema(operation_id="licenses_evidence_retrieve", parameters=[CORRELATION],
                   responses={200: s.EvidenceSerializer, **ERRORS})
    def get(self, request: Request, snapshot_hash: str) -> Response:
        """The evidence pack's metadata and download link (``view.evidence``; the
        download itself needs ``evidence.export``)."""
        self.require("view.evidence", ("snapshot", snapshot_hash))
        meta = queries.evidence(self.organization, snapshot_hash)
        url = reverse("eucora_license_api:evidence-download", kwargs={"snapshot_hash": snapshot_hash})
        allowed = gov.authorize(self.organization, self.actor, "evidence.export")["allowed"]
        return Response({**meta, "download": request.build_absolute_uri(url), "download_allowed": bool(allowed)})


class EvidenceDownloadView(LicenseAPIView):
    @extend_schema(operation_id="licenses_evidence_download", parameters=[CORRELATION],
                   responses={(200, "application/x-tar"): OpenApiTypes.BINARY, **ERRORS})
    def get(self, request: Request, snapshot_hash: str) -> HttpResponse:
        """The evidence pack's bytes (``evidence.export``)."""
        self.require("evidence.export", ("snapshot", snapshot_hash))
        meta = queries.evidence(self.organization, snapshot_hash)
        data = queries.evidence_bytes(self.organization, snapshot_hash)
        response = HttpResponse(data, content_type="application/x-tar")
        response["Content-Disposition"] = f'attachment; filename="{meta["filename"]}"'
        response["X-Evidence-Pack-Hash"] = str(meta["pack_hash"])
        return response


# ------------------------------------------------------------------------------ writes


class EntitlementsView(LicenseAPIView):
    @extend_schema(operation_id="licenses_entitlements_propose", parameters=[CORRELATION], request=s.EntitlementRequestSerializer,
                   responses={201: s.ProposalSerializer, **ERRORS})
    @governed_write
    def post(self, request: Request) -> Response:
        """A pending ``entitlement.create|update|end`` proposal (``entitlement.propose``)."""
        self.require("entitlement.propose", ("entitlement", ""))
        row = proposal_service.propose_entitlement(self.organization, self.actor, self.body_object(),
                                                   correlation_id=self.correlation_id)
        return Response(proposal_service.proposal_dict(row), status=status.HTTP_201_CREATED)


PROPOSAL_STATES = ("pending", "approved", "rejected", "expired")


class ProposalsView(LicenseAPIView):
    @extend_schema(operation_id="licenses_proposals_list",
                   parameters=[CORRELATION, OpenApiParameter("state", OpenApiTypes.STR, required=False, enum=list(PROPOSAL_STATES))],
                   responses={200: s.ProposalListSerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        """The proposals, newest first (``view.dashboard``)."""
        self.require("view.dashboard")
        state = request.query_params.get("state") or None
        if state is not None and state not in PROPOSAL_STATES:
            raise _bad("state", f"state must be one of {', '.join(PROPOSAL_STATES)}")
        return Response(listing(queries.proposals(self.organization, state=state)))


class ProposalDecisionView(LicenseAPIView):
    """POST ``proposals/{id}/approve`` and ``/reject``: D1 with the kind's approve action,
    then ``decide`` (D2); approved: the change is applied in the same transaction."""

    decision = "approve"

    @extend_schema(parameters=[CORRELATION], request=s.DecisionRequestSerializer,
                   responses={200: s.DecisionSerializer, **ERRORS, **CONFLICT})
    @governed_write
    def post(self, request: Request, proposal_id: str) -> Response:
        row = proposal_service.get_proposal(self.organization, proposal_id)
        self.require(gov.APPROVE_ACTION[row.kind], ("proposal", proposal_id))
        body = self.body_object()
        comment = body.get("comment", "")
        payload_hash = body.get("payload_hash")
        if comment is None:
            comment = ""
        if not isinstance(comment, str):
            raise _bad("comment", "comment must be a string")
        if payload_hash is not None and not isinstance(payload_hash, str):
            raise _bad("payload_hash", "payload_hash must be a string")
        outcome = proposal_service.decide_proposal(self.organization, self.actor, proposal_id, self.decision, comment=comment,
                                                   payload_hash=payload_hash, correlation_id=self.correlation_id)
        return Response(outcome.to_dict())


class ProposalApproveView(ProposalDecisionView):
    decision = "approve"

    @extend_schema(operation_id="licenses_proposals_approve", parameters=[CORRELATION], request=s.DecisionRequestSerializer,
                   responses={200: s.DecisionSerializer, **ERRORS, **CONFLICT})
    def post(self, request: Request, proposal_id: str) -> Response:
        """Approve (the kind's ``*.approve``; refused with the D1 / D2 reason: ``self_approval``, ...)."""
        return super().post(request, proposal_id)


class ProposalRejectView(ProposalDecisionView):
    decision = "reject"

    @extend_schema(operation_id="licenses_proposals_reject", parameters=[CORRELATION], request=s.DecisionRequestSerializer,
                   responses={200: s.DecisionSerializer, **ERRORS, **CONFLICT})
    def post(self, request: Request, proposal_id: str) -> Response:
        """Reject (the kind's ``*.approve``; any counted reject makes the proposal ``rejected``)."""
        return super().post(request, proposal_id)


class ReconcileRunView(LicenseAPIView):
    @extend_schema(operation_id="licenses_reconcile_run", parameters=[CORRELATION], request=None,
                   responses={202: s.RunSerializer, **ERRORS})
    @governed_write
    def post(self, request: Request) -> Response:
        """Run the reconciliation now (``reconcile.run``); 202 with the run, which fails closed (A6)."""
        self.require("reconcile.run", ("reconciliation_run", ""))
        run = run_service.run_now(self.organization, self.actor, correlation_id=self.correlation_id)
        return Response(queries.run_dict(run), status=status.HTTP_202_ACCEPTED)


class ImportView(LicenseAPIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(operation_id="licenses_import", parameters=[CORRELATION], request={"multipart/form-data": s.ImportRequestSerializer},
                   responses={201: s.ImportJobSerializer, **ERRORS})
    @governed_write
    def post(self, request: Request) -> Response:
        """Import files with an adapter (``import.upload``): the job, with its row errors."""
        self.require("import.upload", ("import", ""))
        form: Any = request.data
        adapter = form.get("adapter")
        if not isinstance(adapter, str) or not adapter:
            raise _bad("adapter", "adapter is required")
        files: dict[str, bytes] = {}
        for field in request.FILES:
            for upload in request.FILES.getlist(field):
                name = str(upload.name or field)
                if name in files:
                    raise _bad("files", f"file {name!r} uploaded twice")
                files[name] = upload.read()
        jobs = import_service.import_files(self.organization, self.actor, adapter, files, correlation_id=self.correlation_id)
        all_jobs = [job_dict(j) for j in jobs]
        return Response({**all_jobs[0], "jobs": all_jobs}, status=status.HTTP_201_CREATED)


class RulesetsView(LicenseAPIView):
    @extend_schema(operation_id="licenses_rulesets_propose", parameters=[CORRELATION],
                   request=OpenApiTypes.OBJECT, responses={201: s.ProposalSerializer, **ERRORS})
    @governed_write
    def post(self, request: Request) -> Response:
        """A complete ruleset as a pending ``ruleset.version`` proposal (``ruleset.propose``)."""
        self.require("ruleset.propose", ("ruleset", ""))
        row = proposal_service.propose_ruleset(self.organization, self.actor, self.body_object(), correlation_id=self.correlation_id)
        return Response(proposal_service.proposal_dict(row), status=status.HTTP_201_CREATED)


class AgentRunView(LicenseAPIView):
    @extend_schema(operation_id="licenses_agents_run", parameters=[CORRELATION], request=None,
                   responses={201: s.AgentRunSerializer, **ERRORS})
    @governed_write
    def post(self, request: Request, agent: str) -> Response:
        """Run ``agent`` under the user's delegation (``agent.run`` + D1 delegation): the AgentRun."""
        self.require("agent.run", ("agent", agent))
        run = agent_service.run_agent(self.organization, request.user, agent, correlation_id=self.correlation_id)
        return Response(agent_service.agent_run_dict(run), status=status.HTTP_201_CREATED)


class AuditView(LicenseAPIView):
    @extend_schema(operation_id="licenses_audit_list",
                   parameters=[CORRELATION, OpenApiParameter("correlation_id", OpenApiTypes.STR, required=False)],
                   responses={200: s.AuditListSerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        """The D3 entries in ``seq`` order, optionally of one correlation id (``audit.run``)."""
        self.require("audit.run")
        cid = request.query_params.get("correlation_id") or None
        return Response(listing(queries.audit(self.organization, correlation_id=cid)))


class AuditVerifyView(LicenseAPIView):
    @extend_schema(operation_id="licenses_audit_verify", parameters=[CORRELATION], responses={200: s.AuditVerifySerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        """D5 ``{ok, size, failure}``: the chain, then the stored checkpoint by a consistency proof (``audit.run``)."""
        self.require("audit.run")
        result = gov.verify_audit(self.organization)
        return Response({"ok": bool(result["ok"]), "size": int(result["size"]), "failure": result.get("failure")})
