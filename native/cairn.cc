// Cairn's native helpers (loaded by src/data/native.ts; everything has a JavaScript fallback).
//
// scanUnits lists and lstat()s the files of several units of a directory tree on a few threads
// at once, for the no-op path of `status` and `add`. It covers only the plain case: no symbolic
// links, no .dvcignore inside the tree, no name whose order could differ from JavaScript's sort,
// no error. On anything else it reports the unit as unsupported and the JavaScript walker
// (src/data/scan.ts), which has the full semantics and the error messages, handles that unit.
//
// hashUnit is the same walk for a first `add`, on libuv's thread pool: it also reads every file
// of up to 4 MiB whole, takes its MD5 with the OpenSSL inside node, and stores it in the cache
// as a read-only object that appears under its final name only complete (an O_TMPFILE linked
// in, or a named temp renamed). It declines the same units as scanUnits, and any unit where a
// file changed size or an I/O call failed, reporting the objects it stored before declining.
//
// sha256 hashes bytes already in memory on libuv's thread pool: `cairn serve` verifies a model
// there while its main thread loads the server (src/oci/digest.ts sha256InPool).
//
// (Large files in add, pack and unpack are written from JavaScript with O_DIRECT: see
// src/core/direct-io.ts.)
#include <node_api.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>

#include <openssl/evp.h>

namespace {

struct Unit {
  std::vector<std::string> dirs;
  std::vector<std::string> files;
};

struct Result {
  bool ok = true;
  std::string names;           // relative paths joined by '\0'
  std::vector<double> stats;   // ino, mtimeMs, size, mode per file
  size_t count = 0;
};

struct Hasher;
bool hashFile(Hasher& h, int dirFd, const char* name, const struct stat& st);

// Names the walker never descends into or records (src/data/ignore.ts ALWAYS), and the
// ignore file whose presence hands the unit back to JavaScript.
bool alwaysIgnored(const char* n) {
  return std::strcmp(n, ".git") == 0 || std::strcmp(n, ".cairn") == 0 ||
         std::strcmp(n, ".dvc") == 0;
}

// JavaScript sorts names by UTF-16 code units; byte order of UTF-8 agrees except for
// 4-byte sequences (lead byte >= 0xF0) and invalid UTF-8, which we do not take on.
bool plainName(const char* n) {
  for (const unsigned char* p = reinterpret_cast<const unsigned char*>(n); *p != 0; ++p) {
    if (*p >= 0xF0 || *p == 0xC0 || *p == 0xC1) return false;
  }
  return true;
}

// Records a regular file (`name` in the directory `dirFd`) and, when hashing, hashes and
// stores it; false hands the unit back to JavaScript.
bool addFile(Result& r, int dirFd, const char* name, const std::string& rel, const struct stat& st,
             Hasher* h) {
  if (r.count > 0) r.names.push_back('\0');
  r.names.append(rel);
  r.count++;
  r.stats.push_back(static_cast<double>(st.st_ino));
  // As Node computes Stats.mtimeMs: sec * 1e3 + nsec / 1e6, in doubles.
  r.stats.push_back(static_cast<double>(st.st_mtim.tv_sec) * 1000.0 +
                    static_cast<double>(st.st_mtim.tv_nsec) / 1000000.0);
  r.stats.push_back(static_cast<double>(st.st_size));
  r.stats.push_back(static_cast<double>(st.st_mode));
  return h == nullptr || hashFile(*h, dirFd, name, st);
}

// Walks the directory `fd` (owned; closed here) whose path relative to the unit root is `rel`.
bool walk(int fd, const std::string& rel, Result& r, Hasher* h) {
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    close(fd);
    return false;
  }
  std::vector<std::string> names;
  for (struct dirent* e = readdir(d); e != nullptr; e = readdir(d)) {
    const char* n = e->d_name;
    if (n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0))) continue;
    if (std::strcmp(n, ".dvcignore") == 0 || !plainName(n)) {
      closedir(d);
      return false;
    }
    names.emplace_back(n);
  }
  std::sort(names.begin(), names.end());
  bool ok = true;
  for (const std::string& name : names) {
    if (alwaysIgnored(name.c_str())) continue;
    struct stat st;
    if (fstatat(dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISLNK(st.st_mode)) {
      ok = false;
      break;
    }
    const std::string childRel = rel.empty() ? name : rel + "/" + name;
    if (S_ISDIR(st.st_mode)) {
      int child = openat(dirfd(d), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0 || !walk(child, childRel, r, h)) {
        ok = false;
        break;
      }
    } else if (S_ISREG(st.st_mode)) {
      if (!addFile(r, dirfd(d), name.c_str(), childRel, st, h)) {
        ok = false;
        break;
      }
    }
    // sockets, fifos and devices are not data (as in scan.ts)
  }
  closedir(d);
  return ok;
}

// One unit of the tree at `root`, as src/data/scan.ts walks it; `h` hashes and stores when set.
void scanUnit(const std::string& root, const Unit& u, Result& r, Hasher* h) {
  int rootFd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootFd < 0) {
    r.ok = false;
    return;
  }
  for (const std::string& file : u.files) {
    struct stat st;
    if (fstatat(rootFd, file.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISLNK(st.st_mode)) {
      r.ok = false;
      break;
    }
    if (S_ISREG(st.st_mode) && !addFile(r, rootFd, file.c_str(), file, st, h)) {
      r.ok = false;
      break;
    }
  }
  for (size_t i = 0; r.ok && i < u.dirs.size(); i++) {
    const std::string& dir = u.dirs[i];
    int fd = dir.empty() ? dup(rootFd)
                         : openat(rootFd, dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || !walk(fd, dir, r, h)) r.ok = false;
  }
  close(rootFd);
}

// ---- hashing and storing for hashUnit ----

// Files up to this size are read whole and stored while walking (src/data/hash.ts SMALL_FILE);
// larger ones are left to JavaScript, which streams them.
constexpr off_t SMALL_FILE = 4 * 1024 * 1024;
// What hashUnit reports as the md5 of a file it left to JavaScript.
constexpr char LARGE_MD5[] = "--------------------------------";

// Where and how objects are stored (src/data/cache.ts CacheLayout, prepareFreshCache).
struct Store {
  std::string base;     // <cache>/files/md5
  std::string tempDir;  // <cache>/.cairn-tmp, for named temps
  mode_t fileMode = 0444;
  mode_t dirMode = 0777;
  // All 256 prefix folders were created by this add on an empty cache: an object exists only
  // if this process stored it, so nobody needs to look.
  bool fresh = false;
  // O_TMPFILE where the filesystem has it (tests turn it off to exercise named temps).
  bool tmpfile = true;
};

// MD5 from the OpenSSL linked into node, fetched once.
const EVP_MD* md5Algorithm() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  return md;
}

// O_TMPFILE plus a link through /proc, until one of them turns out not to work here.
std::atomic<bool> tmpfileWorks{true};
std::atomic<uint64_t> tempCounter{0};

// `<pid>-<tag>-` as src/data/cache.ts tempObjectPath names temps, so cacheTempPid and
// sweepDeadTemps recognise those of a killed process; the tag tells this addon's apart.
const std::string& tempPrefix() {
  static const std::string prefix = [] {
    unsigned char bytes[4] = {0, 0, 0, 0};
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      if (read(fd, bytes, sizeof bytes) != sizeof bytes) std::memset(bytes, 0, sizeof bytes);
      close(fd);
    }
    char tag[16];
    std::snprintf(tag, sizeof tag, "%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3]);
    return std::to_string(getpid()) + "-n" + tag + "-";
  }();
  return prefix;
}

struct Hasher {
  const Store* store = nullptr;  // null: hash only
  std::vector<unsigned char> buf;
  std::string md5s;    // 32 hex digits per file, LARGE_MD5 for files left to JavaScript
  std::string stored;  // 32 hex digits per object this call stored
  std::unordered_set<std::string> present;  // objects this call stored or found stored
  std::string tempDirMade;
};

void toHex(const unsigned char* digest, char* out) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 16; i++) {
    out[2 * i] = digits[digest[i] >> 4];
    out[2 * i + 1] = digits[digest[i] & 15];
  }
}

bool writeAll(int fd, const unsigned char* data, size_t len) {
  while (len > 0) {
    const ssize_t n = write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

// mkdir -p with the cache's folder mode; true when `dir` exists afterwards.
bool makeDirs(const std::string& dir, mode_t mode) {
  if (mkdir(dir.c_str(), mode) == 0 || errno == EEXIST) return true;
  if (errno != ENOENT) return false;
  const size_t slash = dir.rfind('/');
  if (slash == std::string::npos || slash == 0 || !makeDirs(dir.substr(0, slash), mode)) return false;
  return mkdir(dir.c_str(), mode) == 0 || errno == EEXIST;
}

int renameNoReplace(const char* from, const char* to) {
#ifdef SYS_renameat2
  const long rc = syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 1 /* RENAME_NOREPLACE */);
  if (rc == 0 || (errno != EINVAL && errno != ENOSYS)) return static_cast<int>(rc);
#endif
  // Replacing an object by another copy of the same bytes is harmless (as cache.ts does).
  return rename(from, to);
}

enum class Stored { yes, present, failed };

// An anonymous temp in the prefix folder, linked in once written: nothing to clean after a crash.
// Returns failed with errno 0 when this system cannot do it (the caller uses a named temp).
Stored storeAnonymous(const Store& s, const std::string& dir, const std::string& dest,
                      const unsigned char* data, size_t len) {
  int fd = open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, s.fileMode);
  if (fd < 0 && errno == ENOENT && makeDirs(dir, s.dirMode)) {
    fd = open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, s.fileMode);
  }
  if (fd < 0) {
    if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL || errno == ENOENT) errno = 0;
    return Stored::failed;
  }
  if (!writeAll(fd, data, len)) {
    const int err = errno;
    close(fd);
    errno = err;
    return Stored::failed;
  }
  char proc[64];
  std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  const int rc = linkat(AT_FDCWD, proc, AT_FDCWD, dest.c_str(), AT_SYMLINK_FOLLOW);
  const int err = errno;
  close(fd);
  if (rc == 0) return Stored::yes;
  if (err == EEXIST) return Stored::present;  // another writer stored the same bytes
  errno = (err == ENOENT || err == EPERM || err == EXDEV || err == EOPNOTSUPP) ? 0 : err;
  return Stored::failed;
}

// A temp in <cache>/.cairn-tmp named as cache.ts names them, renamed in once written.
Stored storeNamed(Hasher& h, const std::string& dir, const std::string& dest,
                  const unsigned char* data, size_t len) {
  const Store& s = *h.store;
  if (h.tempDirMade.empty()) {
    if (!makeDirs(s.tempDir, 0777)) return Stored::failed;
    h.tempDirMade = s.tempDir;
  }
  const std::string tmp = s.tempDir + "/" + tempPrefix() + std::to_string(++tempCounter);
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, s.fileMode);
  if (fd < 0) return Stored::failed;
  const bool written = writeAll(fd, data, len);
  if (close(fd) != 0 || !written) {
    unlink(tmp.c_str());
    return Stored::failed;
  }
  int rc = renameNoReplace(tmp.c_str(), dest.c_str());
  if (rc != 0 && errno == ENOENT && makeDirs(dir, s.dirMode)) rc = renameNoReplace(tmp.c_str(), dest.c_str());
  if (rc == 0) return Stored::yes;
  const int err = errno;
  unlink(tmp.c_str());
  return err == EEXIST ? Stored::present : Stored::failed;
}

// Stores the object `hex` unless it is in the cache already; false on an I/O error.
bool storeObject(Hasher& h, const char* hex, const unsigned char* data, size_t len) {
  const Store& s = *h.store;
  const std::string key(hex, 32);
  // Identical files in one unit are common (empty files, generated data): look only once.
  if (h.present.count(key) != 0) return true;
  const std::string dir = s.base + "/" + key.substr(0, 2);
  const std::string dest = dir + "/" + key.substr(2);
  if (!s.fresh && access(dest.c_str(), F_OK) == 0) {
    h.present.insert(key);
    return true;
  }
  Stored result = Stored::failed;
  errno = 0;
  if (s.tmpfile && tmpfileWorks.load(std::memory_order_relaxed)) {
    result = storeAnonymous(s, dir, dest, data, len);
    if (result == Stored::failed) {
      if (errno != 0) return false;
      tmpfileWorks.store(false, std::memory_order_relaxed);
    }
  }
  if (result == Stored::failed) result = storeNamed(h, dir, dest, data, len);
  if (result == Stored::failed) return false;
  if (result == Stored::yes) h.stored.append(key);
  h.present.insert(key);
  return true;
}

// Reads a small file whole (asking for one byte more than its size, so a file that grew is
// noticed), records its md5 and stores it; false when it changed or could not be read.
bool hashFile(Hasher& h, int dirFd, const char* name, const struct stat& st) {
  if (st.st_size > SMALL_FILE) {
    h.md5s.append(LARGE_MD5, 32);
    return true;
  }
  const EVP_MD* md = md5Algorithm();
  if (md == nullptr) return false;
  const int fd = openat(dirFd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  const size_t want = static_cast<size_t>(st.st_size) + 1;
  if (h.buf.size() < want) h.buf.resize(want);
  size_t off = 0;
  for (;;) {
    const ssize_t n = read(fd, h.buf.data() + off, want - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      close(fd);
      return false;
    }
    off += static_cast<size_t>(n);
    // A regular file returns less than asked only at its end: no second read needed.
    if (n == 0 || off == want || off == static_cast<size_t>(st.st_size)) break;
  }
  close(fd);
  if (off != static_cast<size_t>(st.st_size)) return false;  // grew or shrank since the stat
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digestLen = 0;
  if (EVP_Digest(h.buf.data(), off, digest, &digestLen, md, nullptr) != 1 || digestLen != 16) return false;
  char hex[32];
  toHex(digest, hex);
  h.md5s.append(hex, 32);
  return h.store == nullptr || storeObject(h, hex, h.buf.data(), off);
}

bool getString(napi_env env, napi_value v, std::string& out) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) return false;
  out.resize(len);
  return napi_get_value_string_utf8(env, v, out.data(), len + 1, &len) == napi_ok;
}

bool getStrings(napi_env env, napi_value arr, std::vector<std::string>& out) {
  uint32_t n = 0;
  if (napi_get_array_length(env, arr, &n) != napi_ok) return false;
  out.resize(n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    if (napi_get_element(env, arr, i, &v) != napi_ok || !getString(env, v, out[i])) return false;
  }
  return true;
}

napi_value fail(napi_env env, const char* message) {
  napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

// Queues `job` on libuv's pool (execute there, complete back on the main thread) and returns the
// promise its complete settles through `job->deferred`.
template <typename Job>
napi_value queueJob(napi_env env, const char* name, napi_async_execute_callback execute,
                    napi_async_complete_callback complete, Job* job) {
  napi_value promise, resource;
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource);
  napi_create_async_work(env, nullptr, resource, execute, complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
}

// scanUnits(root: string, units: [dirs: string[], files: string[]][], threads: number)
//   -> ([names: Buffer, stats: Float64Array] | null)[]
napi_value ScanUnits(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 3) return fail(env, "scanUnits(root, units, threads)");
  std::string root;
  if (!getString(env, argv[0], root)) return fail(env, "root must be a string");
  uint32_t nunits = 0;
  if (napi_get_array_length(env, argv[1], &nunits) != napi_ok) return fail(env, "units must be an array");
  std::vector<Unit> units(nunits);
  for (uint32_t i = 0; i < nunits; i++) {
    napi_value pair, dirs, files;
    napi_get_element(env, argv[1], i, &pair);
    if (napi_get_element(env, pair, 0, &dirs) != napi_ok || napi_get_element(env, pair, 1, &files) != napi_ok ||
        !getStrings(env, dirs, units[i].dirs) || !getStrings(env, files, units[i].files)) {
      return fail(env, "each unit must be [dirs, files]");
    }
  }
  int32_t threads = 1;
  napi_get_value_int32(env, argv[2], &threads);
  if (threads < 1) threads = 1;
  if (static_cast<uint32_t>(threads) > nunits) threads = static_cast<int32_t>(nunits > 0 ? nunits : 1);

  std::vector<Result> results(nunits);
  std::atomic<uint32_t> next{0};
  auto work = [&]() {
    for (uint32_t i = next++; i < nunits; i = next++) scanUnit(root, units[i], results[i], nullptr);
  };
  std::vector<std::thread> pool;
  for (int32_t t = 1; t < threads; t++) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();

  napi_value out;
  napi_create_array_with_length(env, nunits, &out);
  for (uint32_t i = 0; i < nunits; i++) {
    Result& r = results[i];
    napi_value item;
    if (!r.ok) {
      napi_get_null(env, &item);
    } else {
      napi_value names, ab, stats;
      void* data = nullptr;
      napi_create_buffer_copy(env, r.names.size(), r.names.data(), nullptr, &names);
      napi_create_arraybuffer(env, r.stats.size() * sizeof(double), &data, &ab);
      if (!r.stats.empty()) std::memcpy(data, r.stats.data(), r.stats.size() * sizeof(double));
      napi_create_typedarray(env, napi_float64_array, r.stats.size(), ab, 0, &stats);
      napi_create_array_with_length(env, 2, &item);
      napi_set_element(env, item, 0, names);
      napi_set_element(env, item, 1, stats);
    }
    napi_set_element(env, out, i, item);
  }
  return out;
}

// ---- hashUnit: one unit of a first add, walked, hashed and stored on libuv's pool ----

struct HashJob {
  std::string root;
  Unit unit;
  Store store;
  bool storing = false;
  Result result;
  Hasher hasher;
  napi_deferred deferred;
  napi_async_work work;
};

void HashExecute(napi_env, void* data) {
  HashJob* j = static_cast<HashJob*>(data);
  if (j->storing) j->hasher.store = &j->store;
  scanUnit(j->root, j->unit, j->result, &j->hasher);
}

napi_value bufferOf(napi_env env, const std::string& bytes) {
  napi_value out;
  napi_create_buffer_copy(env, bytes.size(), bytes.data(), nullptr, &out);
  return out;
}

void HashComplete(napi_env env, napi_status, void* data) {
  HashJob* j = static_cast<HashJob*>(data);
  const Result& r = j->result;
  napi_value item, nothing;
  napi_get_null(env, &nothing);
  napi_create_array_with_length(env, 4, &item);
  if (r.ok) {
    napi_value ab, stats;
    void* bytes = nullptr;
    napi_create_arraybuffer(env, r.stats.size() * sizeof(double), &bytes, &ab);
    if (!r.stats.empty()) std::memcpy(bytes, r.stats.data(), r.stats.size() * sizeof(double));
    napi_create_typedarray(env, napi_float64_array, r.stats.size(), ab, 0, &stats);
    napi_set_element(env, item, 0, bufferOf(env, r.names));
    napi_set_element(env, item, 1, stats);
    napi_set_element(env, item, 2, bufferOf(env, j->hasher.md5s));
  } else {
    for (uint32_t i = 0; i < 3; i++) napi_set_element(env, item, i, nothing);
  }
  // Declined or not, the caller must know what is now in the cache because of us.
  napi_set_element(env, item, 3, bufferOf(env, j->hasher.stored));
  napi_resolve_deferred(env, j->deferred, item);
  napi_delete_async_work(env, j->work);
  delete j;
}

bool getProperty(napi_env env, napi_value object, const char* key, napi_value& out) {
  bool has = false;
  return napi_has_named_property(env, object, key, &has) == napi_ok && has &&
         napi_get_named_property(env, object, key, &out) == napi_ok;
}

bool getStore(napi_env env, napi_value v, Store& s) {
  napi_value base, tempDir, fileMode, dirMode, fresh, tmpfile;
  uint32_t file = 0, dir = 0;
  bool isFresh = false, useTmpfile = true;
  if (!getProperty(env, v, "base", base) || !getProperty(env, v, "tempDir", tempDir) ||
      !getProperty(env, v, "fileMode", fileMode) || !getProperty(env, v, "dirMode", dirMode) ||
      !getProperty(env, v, "fresh", fresh) || !getString(env, base, s.base) ||
      !getString(env, tempDir, s.tempDir) || napi_get_value_uint32(env, fileMode, &file) != napi_ok ||
      napi_get_value_uint32(env, dirMode, &dir) != napi_ok || napi_get_value_bool(env, fresh, &isFresh) != napi_ok) {
    return false;
  }
  if (getProperty(env, v, "tmpfile", tmpfile) && napi_get_value_bool(env, tmpfile, &useTmpfile) != napi_ok) return false;
  s.tmpfile = useTmpfile;
  s.fileMode = static_cast<mode_t>(file);
  s.dirMode = static_cast<mode_t>(dir);
  s.fresh = isFresh;
  return !s.base.empty() && !s.tempDir.empty();
}

// hashUnit(root: string, dirs: string[], files: string[],
//          store: {base, tempDir, fileMode, dirMode, fresh, tmpfile?} | null)
//   -> Promise<[names: Buffer | null, stats: Float64Array | null, md5s: Buffer | null, stored: Buffer]>
// names, stats and md5s are null when the unit is declined; it never rejects.
napi_value HashUnit(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 4) return fail(env, "hashUnit(root, dirs, files, store)");
  HashJob* j = new HashJob();
  napi_valuetype storeType = napi_undefined;
  napi_typeof(env, argv[3], &storeType);
  j->storing = storeType == napi_object;
  if (!getString(env, argv[0], j->root) || !getStrings(env, argv[1], j->unit.dirs) ||
      !getStrings(env, argv[2], j->unit.files) ||
      (j->storing && !getStore(env, argv[3], j->store)) ||
      (!j->storing && storeType != napi_null && storeType != napi_undefined)) {
    delete j;
    return fail(env, "hashUnit takes a root, its dirs and files, and a store description or null");
  }
  return queueJob(env, "cairn.hashUnit", HashExecute, HashComplete, j);
}

// ---- sha256: the digest of bytes in memory, on libuv's pool ----

struct Sha256Job {
  napi_ref bytes;  // keeps the bytes alive until the job completes
  const unsigned char* data = nullptr;
  size_t length = 0;
  bool ok = false;
  char hex[2 * EVP_MAX_MD_SIZE + 1] = {0};
  napi_deferred deferred;
  napi_async_work work;
};

void Sha256Execute(napi_env, void* data) {
  Sha256Job* j = static_cast<Sha256Job*>(data);
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  j->ok = md != nullptr && EVP_Digest(j->data, j->length, digest, &size, md, nullptr) == 1;
  for (unsigned int i = 0; j->ok && i < size; i++) std::snprintf(j->hex + 2 * i, 3, "%02x", digest[i]);
}

void Sha256Complete(napi_env env, napi_status, void* data) {
  Sha256Job* j = static_cast<Sha256Job*>(data);
  napi_value result;
  if (j->ok) {
    napi_create_string_utf8(env, j->hex, NAPI_AUTO_LENGTH, &result);
    napi_resolve_deferred(env, j->deferred, result);
  } else {
    napi_value message;
    napi_create_string_utf8(env, "sha256 is not available from node's OpenSSL", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, nullptr, message, &result);
    napi_reject_deferred(env, j->deferred, result);
  }
  napi_delete_reference(env, j->bytes);
  napi_delete_async_work(env, j->work);
  delete j;
}

// sha256(bytes: Uint8Array) -> Promise<string>: 64 hex digits. The bytes must not change until
// it settles.
napi_value Sha256(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  bool typed = false;
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0, offset = 0;
  void* base = nullptr;
  napi_value arraybuffer;
  if (argc < 1 || napi_is_typedarray(env, argv[0], &typed) != napi_ok || !typed ||
      napi_get_typedarray_info(env, argv[0], &type, &length, &base, &arraybuffer, &offset) != napi_ok ||
      type != napi_uint8_array) {
    return fail(env, "sha256 takes a Uint8Array");
  }
  Sha256Job* j = new Sha256Job();
  j->data = static_cast<const unsigned char*>(base);
  j->length = length;
  napi_create_reference(env, argv[0], 1, &j->bytes);
  return queueJob(env, "cairn.sha256", Sha256Execute, Sha256Complete, j);
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "scanUnits", NAPI_AUTO_LENGTH, ScanUnits, nullptr, &fn);
  napi_set_named_property(env, exports, "scanUnits", fn);
  napi_create_function(env, "hashUnit", NAPI_AUTO_LENGTH, HashUnit, nullptr, &fn);
  napi_set_named_property(env, exports, "hashUnit", fn);
  napi_create_function(env, "sha256", NAPI_AUTO_LENGTH, Sha256, nullptr, &fn);
  napi_set_named_property(env, exports, "sha256", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
