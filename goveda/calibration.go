package goveda

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/cpukern"
	"github.com/veda-runtime/veda/goveda/internal/device"
	"github.com/veda-runtime/veda/goveda/internal/dispatch"
)

// Persistent calibration, as StarPU keeps its performance models.
//
// The dispatcher's cost model (measured throughput per kernel, device and size bucket) is saved
// per machine in the cache directory ($VEDA_CACHE_DIR, default ~/.cache/veda) as
// calibration/<machine>.json, and loaded when the runtime discovers its devices, so that a new
// process places its first call of each (kernel, size) as a calibrated one would.
//
//   - Key: each entry names its device (kind, name, platform, driver version; for the CPU the
//     brand, the worker count and the kernel ISA), VEDA's version and the kernel. An entry of
//     another device, driver or version is not loaded.
//   - File: {"format", "machine", "sha256", "body"}, where sha256 is the hex SHA-256 of the
//     body in compact JSON form. It is written atomically (a temporary file in the same directory, fsync,
//     rename). A file that does not parse, has another format or machine, or whose checksum
//     does not match is ignored (never trusted) and rewritten by the next save.
//   - When: loaded once per runtime at device discovery; saved by Close, by SaveCalibration,
//     and by `veda calibrate`. A save merges: entries of other devices or kernels already in
//     the file are kept.
//   - VEDA_CALIBRATION=on (default) loads and saves, readonly only loads, off does neither.
//     VEDA_CACHE_DIR=off also turns it off.

// CalibrationMode is VEDA_CALIBRATION's value.
type CalibrationMode string

const (
	CalibrationOn       CalibrationMode = "on"       // load at start, save at Close (default)
	CalibrationReadOnly CalibrationMode = "readonly" // load, never write
	CalibrationOff      CalibrationMode = "off"      // neither
)

// calibrationFormat names the file layout; another value is a foreign file.
const calibrationFormat = "veda-calibration/1"

// CalibrationInfo says where the runtime's calibration comes from and goes to.
type CalibrationInfo struct {
	Mode    CalibrationMode `json:"mode"`
	Path    string          `json:"path,omitempty"` // "" when off
	Loaded  int             `json:"loaded"`         // windows imported at start
	Status  string          `json:"status"`         // "loaded", "no file", "ignored: <why>", "off"
	SavedAt time.Time       `json:"saved_at,omitempty"`
}

// calState is a runtime's calibration persistence; guarded by mu.
type calState struct {
	mu   sync.Mutex
	info CalibrationInfo
	keys []string // keys[i] is device i's stable key
}

type calFile struct {
	Format  string          `json:"format"`
	Machine string          `json:"machine"`
	SHA256  string          `json:"sha256"`
	Body    json.RawMessage `json:"body"`
}

type calBody struct {
	Entries []calEntry `json:"entries"`
	Impls   []calImpl  `json:"impls,omitempty"` // which implementation (VEDA's, a vendor's) is faster
}

// calImpl is one saved ImplChooser slot, keyed like calEntry.
type calImpl struct {
	Device  string      `json:"device"`
	Version string      `json:"veda_version"`
	Kernel  string      `json:"kernel"`
	Bucket  int         `json:"bucket"`
	Impls   []string    `json:"impls"`
	Samples [][]float64 `json:"samples"`
}

type calEntry struct {
	Device  string    `json:"device"`
	Version string    `json:"veda_version"`
	Kernel  string    `json:"kernel"`
	Bucket  int       `json:"bucket"`
	Samples []float64 `json:"samples"`
}

// calibrationMode reads VEDA_CALIBRATION; an unknown value wraps ErrInvalidArgument.
func calibrationMode() (CalibrationMode, error) {
	switch v := strings.TrimSpace(os.Getenv("VEDA_CALIBRATION")); v {
	case "", "on", "1":
		return CalibrationOn, nil
	case "readonly":
		return CalibrationReadOnly, nil
	case "off", "0":
		return CalibrationOff, nil
	default:
		return "", invalidf("VEDA_CALIBRATION is %q; want on, readonly or off", v)
	}
}

// machineID identifies this machine: host name, CPU brand and memory size.
func machineID(cpu DeviceInfo) string {
	host, _ := os.Hostname()
	sum := sha256.Sum256([]byte(strings.Join([]string{host, cpu.Name, fmt.Sprint(cpu.MemoryBytes)}, "\x00")))
	return hex.EncodeToString(sum[:8])
}

// deviceKey is the stable name of device i of ds (what a calibration entry is keyed on).
func deviceKey(ds *devState, i int, workers int) string {
	in := ds.infos[i]
	if i == 0 {
		return fmt.Sprintf("cpu|%s|workers=%d|isa=%d", in.Name, workers, cpukern.ISA())
	}
	return strings.Join([]string{in.Kind.String(), in.Name, in.Platform, in.DriverVersion}, "|")
}

// initCalibration loads the saved model into ds.disp; called once from initDevices.
func (rt *Runtime) initCalibration(ds *devState) error {
	mode, err := calibrationMode()
	if err != nil {
		return err
	}
	c := &ds.cal
	c.mu.Lock()
	defer c.mu.Unlock()
	c.info.Mode = mode
	dir := device.OptionsFromEnv().CacheDir
	if mode == CalibrationOff || dir == "" || dir == "off" {
		c.info.Mode, c.info.Status = CalibrationOff, "off"
		return nil
	}
	for i := range ds.infos {
		c.keys = append(c.keys, deviceKey(ds, i, rt.Workers()))
	}
	c.info.Path = filepath.Join(dir, "calibration", machineID(ds.infos[0])+".json")
	body, why := readCalibration(c.info.Path, machineID(ds.infos[0]))
	if why != "" {
		c.info.Status = why
		return nil
	}
	entries := body.Entries
	var iws []dispatch.ImplWindow
	for _, e := range body.Impls {
		for i, k := range c.keys {
			if k == e.Device && e.Version == Version {
				iws = append(iws, dispatch.ImplWindow{Kernel: e.Kernel, Device: i, Bucket: e.Bucket, Impls: e.Impls, Samples: e.Samples})
			}
		}
	}
	c.info.Loaded += rt.impls().Import(iws)
	var ws []dispatch.ModelWindow
	for _, e := range entries {
		if e.Version != Version {
			continue
		}
		for i, k := range c.keys {
			if k == e.Device {
				ws = append(ws, dispatch.ModelWindow{Kernel: e.Kernel, Device: i, Bucket: e.Bucket, Samples: e.Samples})
			}
		}
	}
	c.info.Loaded += ds.disp.ImportModel(ws)
	c.info.Status = "loaded"
	return nil
}

// readCalibration returns the entries of the file at path, or why it is not usable ("no file",
// "ignored: ...").
func readCalibration(path, machine string) (calBody, string) {
	var none calBody
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return none, "no file"
	}
	if err != nil {
		return none, "ignored: " + err.Error()
	}
	var f calFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return none, "ignored: corrupt: " + err.Error()
	}
	if f.Format != calibrationFormat {
		return none, fmt.Sprintf("ignored: foreign format %q", f.Format)
	}
	if f.Machine != machine {
		return none, fmt.Sprintf("ignored: file of machine %q, this is %q", f.Machine, machine)
	}
	// The checksum covers the body's compact form (the file is indented for people).
	var compact bytes.Buffer
	if err := json.Compact(&compact, f.Body); err != nil {
		return none, "ignored: corrupt body: " + err.Error()
	}
	sum := sha256.Sum256(compact.Bytes())
	if hex.EncodeToString(sum[:]) != f.SHA256 {
		return none, "ignored: checksum mismatch"
	}
	var b calBody
	if err := json.Unmarshal(f.Body, &b); err != nil {
		return none, "ignored: corrupt body: " + err.Error()
	}
	return b, ""
}

// Calibration returns where the runtime's calibration was loaded from and what happened. The
// first call discovers the devices. Any goroutine.
func (rt *Runtime) Calibration() (CalibrationInfo, error) {
	ds, err := rt.devices()
	if err != nil {
		return CalibrationInfo{}, err
	}
	ds.cal.mu.Lock()
	defer ds.cal.mu.Unlock()
	return ds.cal.info, nil
}

// SaveCalibration writes the runtime's cost model to the calibration file now (merged with the
// entries of other devices and kernels already there), atomically. With VEDA_CALIBRATION=off or
// readonly it does nothing and returns nil. Errors: the file system's (wrapping ErrInternal).
// Any goroutine; costs a file write (milliseconds).
func (rt *Runtime) SaveCalibration() error {
	ds, err := rt.devices()
	if err != nil {
		return err
	}
	return rt.saveCalibration(ds)
}

func (rt *Runtime) saveCalibration(ds *devState) error {
	c := &ds.cal
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.info.Mode != CalibrationOn || c.info.Path == "" {
		return nil
	}
	machine := machineID(ds.infos[0])
	mine := map[string]bool{}
	var entries []calEntry
	for _, w := range ds.disp.ExportModel() {
		if w.Device < 0 || w.Device >= len(c.keys) || strings.HasPrefix(w.Kernel, "user:") {
			continue // user kernels: their source is not part of the key
		}
		e := calEntry{Device: c.keys[w.Device], Version: Version, Kernel: w.Kernel, Bucket: w.Bucket, Samples: w.Samples}
		mine[e.Device+"\x00"+e.Kernel+"\x00"+fmt.Sprint(e.Bucket)] = true
		entries = append(entries, e)
	}
	var impls []calImpl
	for _, w := range rt.impls().Export() {
		if w.Device < 0 || w.Device >= len(c.keys) {
			continue
		}
		e := calImpl{Device: c.keys[w.Device], Version: Version, Kernel: w.Kernel, Bucket: w.Bucket, Impls: w.Impls, Samples: w.Samples}
		mine["impl\x00"+e.Device+"\x00"+e.Kernel+"\x00"+fmt.Sprint(e.Bucket)+"\x00"+strings.Join(e.Impls, ",")] = true
		impls = append(impls, e)
	}
	if len(entries) == 0 && len(impls) == 0 {
		return nil
	}
	if old, why := readCalibration(c.info.Path, machine); why == "" {
		for _, e := range old.Entries {
			if e.Version == Version && !mine[e.Device+"\x00"+e.Kernel+"\x00"+fmt.Sprint(e.Bucket)] {
				entries = append(entries, e)
			}
		}
		for _, e := range old.Impls {
			if e.Version == Version && !mine["impl\x00"+e.Device+"\x00"+e.Kernel+"\x00"+fmt.Sprint(e.Bucket)+"\x00"+strings.Join(e.Impls, ",")] {
				impls = append(impls, e)
			}
		}
	}
	body, err := json.Marshal(calBody{Entries: entries, Impls: impls})
	if err != nil {
		return fmt.Errorf("%w: calibration: %v", ErrInternal, err)
	}
	sum := sha256.Sum256(body)
	out, err := json.MarshalIndent(calFile{Format: calibrationFormat, Machine: machine, SHA256: hex.EncodeToString(sum[:]), Body: body}, "", " ")
	if err != nil {
		return fmt.Errorf("%w: calibration: %v", ErrInternal, err)
	}
	if err := writeAtomic(c.info.Path, out); err != nil {
		return fmt.Errorf("%w: calibration: %v", ErrInternal, err)
	}
	c.info.SavedAt = time.Now()
	return nil
}

// writeAtomic writes data to path through a temporary file in the same directory (fsync, then
// rename), so a reader sees the old file or the new one, never a part.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".calibration-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
	}
	return werr
}

// saveCalibrationOnClose saves the model when the runtime's devices were used. Called by Close.
func (rt *Runtime) saveCalibrationOnClose() {
	ds := &rt.dev
	if !ds.ready.Load() { // load-acquire: pairs with the store-release at the end of initDevices
		return
	}
	_ = rt.saveCalibration(ds)
}
