package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
	"github.com/robinscreen/robinscreen/store/intake"
)

// MaxUploadBytes bounds a dataset streamed through LoadDataset (a full
// population Robinson list is about 1 GB).
const MaxUploadBytes = 8 << 30

// DatasetAdmin is what DatasetService needs from the store.
type DatasetAdmin interface {
	LoadSource(ctx context.Context, kind string, src store.Source, opt store.LoadOptions) (*store.Manifest, error)
	Versions(kind string, now time.Time) ([]store.VersionInfo, error)
	Rollback(kind string) (*store.Manifest, error)
	LastRefused(kind string) *store.Refused
	Loading(kind string) bool
	// Reserve takes a kind's load slot before the upload starts, so that
	// a second load is ABORTED before it sends its file.
	Reserve(kind string) (release func(), err error)
	// OpenImport opens a file named inside the import directory, the only
	// directory LoadDataset may read named files from (errors of package
	// intake).
	OpenImport(name string) (store.Source, func(), error)
	// StageUpload starts an upload staged encrypted on the data volume.
	StageUpload() (*intake.Upload, error)
	// ExportServing opens a kind's serving version for sending to a
	// replica that seeds its data directory (store.ErrNotServing, a
	// *store.DamageError).
	ExportServing(kind string) (*store.Export, error)
}

// DatasetService implements robinscreen.v1.DatasetService.
type DatasetService struct {
	pb.UnimplementedDatasetServiceServer
	admin   DatasetAdmin
	audit   Auditor
	log     *slog.Logger
	changed func() // called after the serving versions changed
	now     func() time.Time
	loads   *loadRegistry
}

// NewDatasetService returns the service; changed is called after every
// successful load or rollback (to refresh health).
func NewDatasetService(admin DatasetAdmin, audit Auditor, log *slog.Logger, changed func()) *DatasetService {
	return &DatasetService{admin: admin, audit: audit, log: log, changed: changed, now: time.Now, loads: newLoadRegistry()}
}

var kindNames = map[pb.DatasetKind]string{
	pb.DatasetKind_DATASET_KIND_ROBINSON: screening.KindRobinson,
	pb.DatasetKind_DATASET_KIND_CPR:      screening.KindCPR,
	pb.DatasetKind_DATASET_KIND_STREETS:  screening.KindStreets,
	pb.DatasetKind_DATASET_KIND_CVR:      screening.KindCVR,
}

func kindOf(k pb.DatasetKind) (string, *refusal) {
	if name, ok := kindNames[k]; ok {
		return name, nil
	}
	return "", badRequest("kind", "must be DATASET_KIND_ROBINSON, DATASET_KIND_CPR, DATASET_KIND_STREETS or DATASET_KIND_CVR")
}

func kindProto(kind string) pb.DatasetKind {
	for k, name := range kindNames {
		if name == kind {
			return k
		}
	}
	return pb.DatasetKind_DATASET_KIND_UNSPECIFIED
}

var phases = map[string]pb.LoadPhase{
	store.PhaseHashing: pb.LoadPhase_LOAD_PHASE_READING, // the same file as the serving version's?
	store.PhaseReading: pb.LoadPhase_LOAD_PHASE_READING,
	store.PhaseWriting: pb.LoadPhase_LOAD_PHASE_WRITING,
	store.PhaseVerify:  pb.LoadPhase_LOAD_PHASE_VERIFYING,
	store.PhaseSwitch:  pb.LoadPhase_LOAD_PHASE_SWITCHING,
	store.PhaseDone:    pb.LoadPhase_LOAD_PHASE_DONE,
}

// LoadDataset receives a file (or names one in the import directory),
// loads it as a new version while screening goes on, and streams progress.
// The load has an ID, sent in every response; once the file is received
// it runs to its end even when the caller's connection drops
// (GetDatasetStatus shows it).
func (s *DatasetService) LoadDataset(stream pb.DatasetService_LoadDatasetServer) error {
	first, err := stream.Recv()
	if err != nil {
		return toStatus(s.log, err)
	}
	start := first.GetStart()
	if start == nil {
		return toStatus(s.log, badRequest("start", "the first message must be a LoadDatasetStart"))
	}
	kind, re := kindOf(start.GetKind())
	if re != nil {
		return toStatus(s.log, re)
	}
	if r := start.GetMaxRejectRatio(); math.IsNaN(r) || r < 0 || r >= 1 {
		return toStatus(s.log, badRequest("max_reject_ratio", "must be at least 0 and below 1 (0 means the default 0.001)"))
	}
	release, err := s.admin.Reserve(kind)
	if err != nil {
		return toStatus(s.log, err)
	}
	phase := pb.LoadPhase_LOAD_PHASE_RECEIVING
	if start.GetImportPath() != "" {
		phase = pb.LoadPhase_LOAD_PHASE_READING
	}
	run := s.loads.start(start.GetKind(), sourceName(start), phase)
	fail := func(err error) error {
		release()
		st := toStatus(s.log, err)
		run.finish(nil, st)
		return st
	}
	// The ID goes out first, so that a caller who loses the connection
	// can find the load.
	if err := stream.Send(&pb.LoadDatasetResponse{Phase: phase, LoadId: run.id}); err != nil {
		return fail(err)
	}
	src, cleanup, err := s.source(stream, start, run)
	if err != nil {
		return fail(err)
	}
	opt := store.LoadOptions{MaxRejectRatio: start.GetMaxRejectRatio(), SourceName: sourceName(start), Reserved: true, AllowShrink: start.GetAllowShrink()}
	if start.GetPublished() != nil {
		opt.Published = start.GetPublished().AsTime().UTC()
	}
	// The load keeps the caller's identity (for the audit log) but not its
	// cancellation; the server's stop cancels it.
	ctx, cancel := context.WithCancel(context.WithoutCancel(stream.Context()))
	stop := context.AfterFunc(s.loads.ctx, cancel)
	s.loads.wg.Add(1)
	go func() {
		defer s.loads.wg.Done()
		defer cancel()
		defer stop()
		resp, st := s.runLoad(ctx, kind, start, src, opt, run)
		// The slot is free and the source cleaned up before the outcome is
		// told: a caller who loads or rolls back again at once must not be
		// refused LOAD_IN_PROGRESS by this load.
		cleanup()
		release()
		run.finish(resp, st)
	}()
	return s.follow(stream, run)
}

// runLoad loads src, reporting progress on run, and returns the load's
// outcome: the final response, or the status error of a refused load.
func (s *DatasetService) runLoad(ctx context.Context, kind string, start *pb.LoadDatasetStart, src store.Source, opt store.LoadOptions, run *loadRun) (*pb.LoadDatasetResponse, error) {
	opt.Progress = func(p store.Progress) {
		// DONE is reported once, with the new version, after the load returns.
		if p.Phase == store.PhaseDone {
			return
		}
		run.update(func(i *pb.LoadInfo) { i.Phase, i.LinesRead = phases[p.Phase], int64(p.Lines) })
	}
	before := s.servingVersion(kind)
	man, err := s.admin.LoadSource(ctx, kind, src, opt)
	if err != nil {
		var le *store.LoadError
		if errors.As(err, &le) {
			var sum string
			if r := s.admin.LastRefused(kind); r != nil {
				sum = r.SourceSHA256
			}
			s.audit.Dataset(ctx, DatasetEvent{Action: ActionRefused, Kind: kind, PreviousVersion: before, SourceName: sourceName(start), SourceSHA256: sum, Error: err.Error()})
		}
		return nil, toStatus(s.log, err)
	}
	s.changed()
	s.audit.Dataset(ctx, DatasetEvent{Action: ActionLoad, Kind: kind, Version: man.Version, PreviousVersion: before, SourceName: sourceName(start), SourceSHA256: man.SourceSHA256, Records: man.Records, Rejected: man.Rejected, Seconds: man.LoadSeconds})
	v := s.version(store.VersionInfo{Manifest: *man, Serving: true})
	if info, ok := s.find(kind, man.Version); ok {
		v = s.version(info)
	}
	return &pb.LoadDatasetResponse{Phase: pb.LoadPhase_LOAD_PHASE_DONE, LinesRead: int64(man.Lines),
		RecordsAccepted: int64(man.Records), LinesRejected: int64(man.Rejected), Version: v, LoadId: run.id, Unchanged: man.Unchanged}, nil
}

// follow streams run's progress to the caller until it ends, and then its
// outcome. When the caller goes away, the load goes on.
func (s *DatasetService) follow(stream pb.DatasetService_LoadDatasetServer, run *loadRun) error {
	var last time.Time
	var lastPhase pb.LoadPhase
	for {
		info, changed, ended := run.snapshot()
		if ended {
			final, err := run.outcome()
			if err != nil {
				return err
			}
			return stream.Send(final)
		}
		if info.GetPhase() != lastPhase || time.Since(last) >= 200*time.Millisecond {
			last, lastPhase = time.Now(), info.GetPhase()
			if err := stream.Send(&pb.LoadDatasetResponse{Phase: info.GetPhase(), LinesRead: info.GetLinesRead(), BytesReceived: info.GetBytesReceived(), LoadId: run.id}); err != nil {
				return toStatus(s.log, err)
			}
		}
		select {
		case <-changed:
		case <-stream.Context().Done():
			return toStatus(s.log, stream.Context().Err())
		}
	}
}

// StopLoads cancels the running loads (their build processes end, their
// new versions are not switched to) and waits for them, at most timeout.
func (s *DatasetService) StopLoads(timeout time.Duration) { s.loads.stop(timeout) }

func sourceName(start *pb.LoadDatasetStart) string {
	if start.GetImportPath() != "" {
		return filepath.Base(start.GetImportPath())
	}
	if start.GetFileName() == "" {
		return "upload"
	}
	return filepath.Base(start.GetFileName())
}

// source returns the file to load: a file in the import directory, or the
// streamed chunks staged encrypted on the data volume (package intake does
// both). The cleanup function closes it and removes a staged upload.
func (s *DatasetService) source(stream pb.DatasetService_LoadDatasetServer, start *pb.LoadDatasetStart, run *loadRun) (store.Source, func(), error) {
	nop := func() {}
	if p := start.GetImportPath(); p != "" {
		src, closeFn, err := s.admin.OpenImport(p)
		if err != nil {
			return store.Source{}, nop, importError(err)
		}
		return src, closeFn, nil
	}
	up, err := s.admin.StageUpload()
	if err != nil {
		return store.Source{}, nop, err
	}
	remove := func() { up.Remove() }
	_, err = s.receive(stream, up, run)
	if err == nil {
		err = up.Seal()
	}
	if err != nil {
		remove()
		return store.Source{}, nop, err
	}
	if want := strings.ToLower(start.GetSha256()); want != "" && want != up.SHA256() {
		remove()
		return store.Source{}, nop, badRequest("sha256", "the received file does not have the given SHA-256")
	}
	return store.UploadSource(up, sourceName(start)), remove, nil
}

// importErrors words the refusals of a named file for the client.
var importErrors = []struct {
	err error
	msg string
}{
	{intake.ErrNoImportDir, "the server has no import directory; stream the file instead"},
	{intake.ErrNotLocal, "must be a relative path inside the import directory"},
	{intake.ErrOutside, "must stay inside the import directory"},
	{intake.ErrNotFound, "no such file in the import directory"},
	{intake.ErrPermission, "cannot open the file in the import directory"},
	{intake.ErrNotRegular, "not a regular file in the import directory"},
}

// importError is a refusal of import_path as a bad request, or err itself
// (an I/O error of the import directory).
func importError(err error) error {
	for _, e := range importErrors {
		if errors.Is(err, e.err) {
			return badRequest("import_path", e.msg)
		}
	}
	return err
}

func (s *DatasetService) receive(stream pb.DatasetService_LoadDatasetServer, w io.Writer, run *loadRun) (int64, error) {
	var n int64
	var last time.Time
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			run.update(func(i *pb.LoadInfo) { i.BytesReceived = n })
			return n, nil
		}
		if err != nil {
			return n, err
		}
		chunk := req.GetChunk()
		if req.GetStart() != nil {
			return n, badRequest("start", "only the first message may be a LoadDatasetStart")
		}
		n += int64(len(chunk))
		if n > MaxUploadBytes {
			return n, badRequest("chunk", "upload larger than the maximum of 8 GiB")
		}
		if _, err := w.Write(chunk); err != nil {
			return n, err
		}
		if time.Since(last) > 500*time.Millisecond {
			last = time.Now()
			run.update(func(i *pb.LoadInfo) { i.BytesReceived = n })
			if err := stream.Send(&pb.LoadDatasetResponse{Phase: pb.LoadPhase_LOAD_PHASE_RECEIVING, BytesReceived: n, LoadId: run.id}); err != nil {
				return n, err
			}
		}
	}
}

func (s *DatasetService) servingVersion(kind string) string {
	vs, _ := s.admin.Versions(kind, s.now())
	for _, v := range vs {
		if v.Serving {
			return v.Version
		}
	}
	return ""
}

func (s *DatasetService) find(kind, version string) (store.VersionInfo, bool) {
	vs, _ := s.admin.Versions(kind, s.now())
	for _, v := range vs {
		if v.Version == version {
			return v, true
		}
	}
	return store.VersionInfo{}, false
}

func (s *DatasetService) version(v store.VersionInfo) *pb.DatasetVersion {
	out := &pb.DatasetVersion{
		Kind: kindProto(v.Kind), Version: v.Version, SourceName: v.SourceName, SourceSha256: v.SourceSHA256,
		SourceBytes: v.SourceBytes, Published: timestamppb.New(v.Published), LoadedAt: timestamppb.New(v.LoadedAt),
		Records: int64(v.Records), Lines: int64(v.Lines), RejectedLines: int64(v.Rejected),
		CurrentRecords: int64(v.Current), PreviousRecords: int64(v.Previous), Persons: int64(v.Persons), Protections: int64(v.Protections),
		PostalDistricts: int64(v.PostalDistricts), EarlierNames: int64(v.EarlierNames),
		Companies: int64(v.Companies), ProductionUnits: int64(v.ProductionUnits), AdvertisingProtected: int64(v.AdvertisingProtected),
		Serving: v.Serving, Age: durationpb.New(v.Age), Stale: v.Stale, MaxAge: durationpb.New(v.MaxAge),
	}
	out.Rejects = rejects(v.Rejects)
	return out
}

func rejects(rs []store.Reject) []*pb.RejectedLine {
	var out []*pb.RejectedLine
	for _, r := range rs {
		out = append(out, &pb.RejectedLine{Line: int64(r.Line), Reason: r.Reason})
	}
	return out
}

// GetDatasetStatus returns the serving version, the last refused load and
// whether a load runs, for every dataset kind, and the running and last
// loads.
func (s *DatasetService) GetDatasetStatus(ctx context.Context, _ *pb.GetDatasetStatusRequest) (*pb.GetDatasetStatusResponse, error) {
	resp := &pb.GetDatasetStatusResponse{}
	for _, kind := range store.Kinds {
		st := &pb.DatasetStatus{Kind: kindProto(kind), Loading: s.admin.Loading(kind)}
		vs, err := s.admin.Versions(kind, s.now())
		if err != nil {
			return nil, toStatus(s.log, err)
		}
		for _, v := range vs {
			if v.Serving {
				st.Serving = s.version(v)
			}
		}
		if dr, ok := s.admin.(interface {
			Damage(string) *store.DamageError
		}); ok {
			if de := dr.Damage(kind); de != nil {
				st.Damaged = de.Error()
			}
		}
		if r := s.admin.LastRefused(kind); r != nil {
			st.LastRefused = &pb.RefusedLoad{At: timestamppb.New(r.At), SourceName: r.SourceName, SourceSha256: r.SourceSHA256, Error: r.Error, Rejects: rejects(r.Rejects)}
		}
		resp.Datasets = append(resp.Datasets, st)
	}
	resp.Loads = s.loads.list()
	return resp, nil
}

// ListDatasetVersions lists the versions kept on disk, newest first.
func (s *DatasetService) ListDatasetVersions(ctx context.Context, req *pb.ListDatasetVersionsRequest) (*pb.ListDatasetVersionsResponse, error) {
	kind, re := kindOf(req.GetKind())
	if re != nil {
		return nil, toStatus(s.log, re)
	}
	vs, err := s.admin.Versions(kind, s.now())
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	resp := &pb.ListDatasetVersionsResponse{}
	for _, v := range vs {
		resp.Versions = append(resp.Versions, s.version(v))
	}
	return resp, nil
}

// RollbackDataset switches a kind back to its previous version.
func (s *DatasetService) RollbackDataset(ctx context.Context, req *pb.RollbackDatasetRequest) (*pb.RollbackDatasetResponse, error) {
	kind, re := kindOf(req.GetKind())
	if re != nil {
		return nil, toStatus(s.log, re)
	}
	before := s.servingVersion(kind)
	man, err := s.admin.Rollback(kind)
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	s.changed()
	s.audit.Dataset(ctx, DatasetEvent{Action: ActionRollback, Kind: kind, Version: man.Version, PreviousVersion: before, SourceName: man.SourceName, SourceSHA256: man.SourceSHA256, Records: man.Records})
	v, _ := s.find(kind, man.Version)
	return &pb.RollbackDatasetResponse{Version: s.version(v)}, nil
}

// fetchChunk is the size of a FetchDatasetVersion chunk message.
const fetchChunk = 256 << 10

// FetchDatasetVersion streams the files of a kind's serving version to a
// replica that seeds its data directory: the version's name, then per
// file its path, size and SHA-256 followed by its bytes. The receiver
// checks each file and the whole version (store.Install). NOT_FOUND
// (VERSION_NOT_SERVED) when the kind serves nothing, UNAVAILABLE
// (DATASET_DAMAGED) when its version is damaged.
func (s *DatasetService) FetchDatasetVersion(req *pb.FetchDatasetVersionRequest, stream pb.DatasetService_FetchDatasetVersionServer) error {
	kind, re := kindOf(req.GetKind())
	if re != nil {
		return toStatus(s.log, re)
	}
	e, err := s.admin.ExportServing(kind)
	if errors.Is(err, store.ErrNotServing) {
		return refuse(ReasonVersionNotServed, "this server serves no "+kind+" version", map[string]string{"kind": kind})
	}
	if err != nil {
		return toStatus(s.log, err)
	}
	defer e.Close()
	if err := stream.Send(&pb.FetchDatasetVersionResponse{Msg: &pb.FetchDatasetVersionResponse_Version{Version: e.Version}}); err != nil {
		return err
	}
	buf := make([]byte, fetchChunk)
	for _, f := range e.Files {
		if err := stream.Send(&pb.FetchDatasetVersionResponse{Msg: &pb.FetchDatasetVersionResponse_File{File: &pb.VersionFile{Path: f.Path, Size: f.Size, Sha256: f.SHA256}}}); err != nil {
			return err
		}
		if err := sendFile(stream, e, f.Path, buf); err != nil {
			return err
		}
	}
	s.log.Info("dataset version sent to a replica", "kind", kind, "version", e.Version, "files", len(e.Files), "client", IdentityFrom(stream.Context()).Name)
	// Who copied a list holding personal data is on the audit trail.
	s.audit.Dataset(stream.Context(), DatasetEvent{Action: ActionSent, Kind: kind, Version: e.Version})
	return nil
}

// sendFile streams one file of e in chunks. A file that cannot be read
// (pruned by two later loads meanwhile) is UNAVAILABLE: the replica
// retries.
func sendFile(stream pb.DatasetService_FetchDatasetVersionServer, e *store.Export, path string, buf []byte) error {
	f, err := e.Open(path)
	if err != nil {
		return refuse(ReasonVersionUnreadable, "a file of the version cannot be read (replaced by later loads?); try again", nil)
	}
	defer f.Close()
	for {
		n, err := f.Read(buf)
		if n > 0 {
			if err := stream.Send(&pb.FetchDatasetVersionResponse{Msg: &pb.FetchDatasetVersionResponse_Chunk{Chunk: buf[:n]}}); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return refuse(ReasonVersionUnreadable, "a file of the version cannot be read; try again", nil)
		}
	}
}
