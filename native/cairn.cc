// Cairn's native helpers (loaded by src/data/native.ts; everything has a JavaScript fallback).
//
// scanUnits lists and lstat()s the files of several units of a directory tree on a few threads
// at once, for the no-op path of `status` and `add`. It covers only the plain case: no symbolic
// links, no .dvcignore inside the tree, no name whose order could differ from JavaScript's sort,
// no error. On anything else it reports the unit as unsupported and the JavaScript walker
// (src/data/scan.ts), which has the full semantics and the error messages, handles that unit.
//
// copyRange copies a byte range between two open files inside the kernel (copy_file_range), on
// the libuv thread pool, so packing and unpacking large files never pull the bytes through
// JavaScript buffers to write them.
#include <node_api.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>

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

void addFile(Result& r, const std::string& rel, const struct stat& st) {
  if (r.count > 0) r.names.push_back('\0');
  r.names.append(rel);
  r.count++;
  r.stats.push_back(static_cast<double>(st.st_ino));
  // As Node computes Stats.mtimeMs: sec * 1e3 + nsec / 1e6, in doubles.
  r.stats.push_back(static_cast<double>(st.st_mtim.tv_sec) * 1000.0 +
                    static_cast<double>(st.st_mtim.tv_nsec) / 1000000.0);
  r.stats.push_back(static_cast<double>(st.st_size));
  r.stats.push_back(static_cast<double>(st.st_mode));
}

// Walks the directory `fd` (owned; closed here) whose path relative to the unit root is `rel`.
bool walk(int fd, const std::string& rel, Result& r) {
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
      if (child < 0 || !walk(child, childRel, r)) {
        ok = false;
        break;
      }
    } else if (S_ISREG(st.st_mode)) {
      addFile(r, childRel, st);
    }
    // sockets, fifos and devices are not data (as in scan.ts)
  }
  closedir(d);
  return ok;
}

void scanUnit(const std::string& root, const Unit& u, Result& r) {
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
    if (S_ISREG(st.st_mode)) addFile(r, file, st);
  }
  for (size_t i = 0; r.ok && i < u.dirs.size(); i++) {
    const std::string& dir = u.dirs[i];
    int fd = dir.empty() ? dup(rootFd)
                         : openat(rootFd, dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || !walk(fd, dir, r)) r.ok = false;
  }
  close(rootFd);
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
    for (uint32_t i = next++; i < nunits; i = next++) scanUnit(root, units[i], results[i]);
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

// ---- copyRange: an in-kernel copy between two open files at explicit offsets ----

struct CopyJob {
  int fdIn;
  int64_t offIn;
  int fdOut;
  int64_t offOut;
  int64_t len;
  int64_t copied = 0;
  int err = 0;
  napi_deferred deferred;
  napi_async_work work;
};

// copy_file_range where the kernel can (no user-space buffer: about 5x cheaper than write()
// here), pread/pwrite where it cannot (other filesystems, old kernels). Stops early only at
// the end of the input.
void CopyExecute(napi_env, void* data) {
  CopyJob* j = static_cast<CopyJob*>(data);
  bool kernel = true;
  std::vector<char> buf;
  while (j->copied < j->len) {
    const int64_t want = std::min<int64_t>(j->len - j->copied, int64_t{1} << 30);
    ssize_t n;
    if (kernel) {
      loff_t in = j->offIn + j->copied;
      loff_t out = j->offOut + j->copied;
      n = copy_file_range(j->fdIn, &in, j->fdOut, &out, static_cast<size_t>(want), 0);
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) {
        kernel = false;
        continue;
      }
    } else {
      if (buf.empty()) buf.resize(1 << 20);
      const size_t chunk = static_cast<size_t>(std::min<int64_t>(want, static_cast<int64_t>(buf.size())));
      n = pread(j->fdIn, buf.data(), chunk, j->offIn + j->copied);
      for (ssize_t w = 0; n > 0 && w < n;) {
        const ssize_t m = pwrite(j->fdOut, buf.data() + w, static_cast<size_t>(n - w), j->offOut + j->copied + w);
        if (m < 0) {
          if (errno == EINTR) continue;
          n = -1;
          break;
        }
        w += m;
      }
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      j->err = errno;
      return;
    }
    if (n == 0) return;  // end of the input
    j->copied += n;
  }
}

void CopyComplete(napi_env env, napi_status, void* data) {
  CopyJob* j = static_cast<CopyJob*>(data);
  if (j->err != 0) {
    napi_value code, message, error;
    napi_create_string_utf8(env, j->err == ENOSPC ? "ENOSPC" : j->err == EIO ? "EIO" : "ECOPY",
                            NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, std::strerror(j->err), NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, code, message, &error);
    napi_value errnoValue;
    napi_create_int32(env, -j->err, &errnoValue);
    napi_set_named_property(env, error, "errno", errnoValue);
    napi_reject_deferred(env, j->deferred, error);
  } else {
    napi_value n;
    napi_create_double(env, static_cast<double>(j->copied), &n);
    napi_resolve_deferred(env, j->deferred, n);
  }
  napi_delete_async_work(env, j->work);
  delete j;
}

// copyRange(fdIn, offIn, fdOut, offOut, len) -> Promise<number of bytes copied>
napi_value CopyRange(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 5) return fail(env, "copyRange(fdIn, offIn, fdOut, offOut, len)");
  CopyJob* j = new CopyJob();
  int32_t fdIn = -1, fdOut = -1;
  if (napi_get_value_int32(env, argv[0], &fdIn) != napi_ok || napi_get_value_int64(env, argv[1], &j->offIn) != napi_ok ||
      napi_get_value_int32(env, argv[2], &fdOut) != napi_ok || napi_get_value_int64(env, argv[3], &j->offOut) != napi_ok ||
      napi_get_value_int64(env, argv[4], &j->len) != napi_ok || j->offIn < 0 || j->offOut < 0 || j->len < 0) {
    delete j;
    return fail(env, "copyRange takes two file descriptors, offsets and a length, all numbers >= 0");
  }
  j->fdIn = fdIn;
  j->fdOut = fdOut;
  napi_value promise, name;
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, "cairn.copyRange", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, nullptr, name, CopyExecute, CopyComplete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "scanUnits", NAPI_AUTO_LENGTH, ScanUnits, nullptr, &fn);
  napi_set_named_property(env, exports, "scanUnits", fn);
  napi_create_function(env, "copyRange", NAPI_AUTO_LENGTH, CopyRange, nullptr, &fn);
  napi_set_named_property(env, exports, "copyRange", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
