internal import Foundation
internal import Testing

/// A C shim built into a shared library for `LD_PRELOAD`, and the environment that arms
/// it: `source` says what it fails and when.
///
/// The C source lives here as a string, written out and compiled with `cc -shared -fPIC`
/// at run time: SwiftPM refuses a `.c` file inside a Swift target ("mixed language source
/// files") unless `Package.swift` excludes it.
struct FaultShim {
    /// The calls the shim can fail.
    enum Call: String {
        case fdatasync, fsync, pwritev, pwrite, write, fallocate
    }

    let library: String
    /// While this file exists the calls `environment` names fail with EIO.
    let trigger: String

    /// Compiles the shim into `directory` with the system's C compiler (`cc`, from gcc), or
    /// else the Swift toolchain's `clang`.
    static func build(in directory: URL) throws -> FaultShim {
        let source = directory.appendingPathComponent("faultshim.c").path
        try Data(Self.source.utf8).write(to: URL(fileURLWithPath: source))
        let library = directory.appendingPathComponent("faultshim.so").path
        var messages: [String] = []
        for compiler in ["cc", "clang"] {
            let (status, message) = try SystemCommand.run(compiler, ["-shared", "-fPIC", "-O1", "-o", library, source, "-ldl"])
            if status == 0 {
                return FaultShim(library: library, trigger: directory.appendingPathComponent("fault-now").path)
            }
            messages.append("\(compiler) (exit \(status)): \(message)")
        }
        throw Daemon.DaemonError(message: "cannot build \(source): \(messages.joined(separator: "; "))")
    }

    /// The environment for logbookd: `calls` on files whose name ends in `suffix` fail
    /// with `errno` once the trigger exists, after the first `skipping` of them have gone
    /// through; only the first failing call when `once` (it deletes the trigger), and half
    /// of a failing `pwritev`'s bytes are written when `partial`.
    func environment(
        failing calls: [Call], on suffix: String = ".seg", errno: Int32 = EIO, skipping: Int = 0, once: Bool, partial: Bool = false
    ) -> [String: String] {
        [
            "LD_PRELOAD": self.library,
            "FAULTSHIM_SUFFIX": suffix,
            "FAULTSHIM_CALLS": calls.map(\.rawValue).joined(separator: ","),
            "FAULTSHIM_TRIGGER": self.trigger,
            "FAULTSHIM_ERRNO": "\(errno)",
            "FAULTSHIM_SKIP": "\(skipping)",
            "FAULTSHIM_ONCE": once ? "1" : "0",
            "FAULTSHIM_PARTIAL": partial ? "1" : "0",
        ]
    }

    /// The environment for logbookd: `calls` on files whose name ends in `suffix` wait,
    /// while the trigger exists, instead of failing; then they go through.
    func environment(stalling calls: [Call], on suffix: String) -> [String: String] {
        [
            "LD_PRELOAD": self.library,
            "FAULTSHIM_SUFFIX": suffix,
            "FAULTSHIM_CALLS": calls.map(\.rawValue).joined(separator: ","),
            "FAULTSHIM_TRIGGER": self.trigger,
            "FAULTSHIM_STALL": "1",
        ]
    }

    /// Lets stalled calls go on (and fails or stalls no more).
    func disarm() {
        try? FileManager.default.removeItem(atPath: self.trigger)
    }

    /// Arms the shim: the next matching call fails.
    func arm() throws {
        try #require(FileManager.default.createFile(atPath: self.trigger, contents: nil))
    }

    var isArmed: Bool {
        FileManager.default.fileExists(atPath: self.trigger)
    }

    static let source = #"""
// An LD_PRELOAD shim that makes logbookd's file I/O fail, for the fail-stop and full-disk
// tests (`FaultShim.build` writes it out and compiles it at run time).
//
// It wraps fdatasync, fsync, pwritev(64), pwrite(64), write and fallocate(64) (and
// posix_fallocate(64), which glibc does not route through the wrapped fallocate). A call
// fails, with FAULTSHIM_ERRNO (EIO when unset), only when all of these hold:
// - the descriptor's path (/proc/self/fd) ends in FAULTSHIM_SUFFIX (".seg" when unset):
//   ".seg" spares the SQLite files beside the log, ".seg.tmp" picks a segment that is
//   being created, "logbook.sqlite-wal" the SQLite write-ahead log;
// - FAULTSHIM_CALLS (a comma-separated list: "fdatasync", "fsync", "pwritev", "pwrite",
//   "write", "fallocate") names the call;
// - the file FAULTSHIM_TRIGGER names exists (the test creates it when the fault is due);
// - FAULTSHIM_SKIP (0 when unset) such calls have already gone through since it was
//   created: the fault hits the Nth call, not the first.
// FAULTSHIM_ONCE=1: the first failure deletes the trigger, so every later call goes
// through; a writer that retried the failed call would then see it succeed.
// FAULTSHIM_PARTIAL=1: a failing pwritev first writes half of its bytes, as a write cut
// short by a failing disk may.
// FAULTSHIM_STALL=1: a call that would fail waits instead until the trigger is gone, then
// goes through (a sync that takes as long as the test wants).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int matches_path(int fd) {
    const char *suffix = getenv("FAULTSHIM_SUFFIX");
    if (suffix == NULL) suffix = ".seg";
    char link[64];
    char path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t length = readlink(link, path, sizeof path - 1);
    size_t suffix_length = strlen(suffix);
    if (length < (ssize_t)suffix_length) return 0;
    path[length] = 0;
    return strcmp(path + length - suffix_length, suffix) == 0;
}

static int listed(const char *call) {
    const char *calls = getenv("FAULTSHIM_CALLS");
    if (calls == NULL) return 0;
    size_t length = strlen(call);
    for (const char *at = strstr(calls, call); at != NULL; at = strstr(at + 1, call)) {
        int starts = at == calls || at[-1] == ',';
        int ends = at[length] == 0 || at[length] == ',';
        if (starts && ends) return 1;
    }
    return 0;
}

static int number(const char *name, int fallback) {
    const char *value = getenv(name);
    return value != NULL && *value != 0 ? atoi(value) : fallback;
}

// Matching calls seen while the trigger existed; the first FAULTSHIM_SKIP go through.
static int matching_calls;

static int should_fail(const char *call, int fd) {
    const char *trigger = getenv("FAULTSHIM_TRIGGER");
    if (trigger == NULL || !listed(call) || !matches_path(fd)) return 0;
    if (access(trigger, F_OK) != 0) return 0;
    if (__atomic_add_fetch(&matching_calls, 1, __ATOMIC_SEQ_CST) <= number("FAULTSHIM_SKIP", 0)) return 0;
    const char *stall = getenv("FAULTSHIM_STALL");
    if (stall != NULL && strcmp(stall, "1") == 0) {
        while (access(trigger, F_OK) == 0) usleep(1000);
        return 0;
    }
    const char *once = getenv("FAULTSHIM_ONCE");
    if (once != NULL && strcmp(once, "1") == 0) {
        // Only the thread whose unlink succeeds fails its call.
        return unlink(trigger) == 0;
    }
    return 1;
}

// Whether this call on `fd` fails (then errno is the fault's); consumes the trigger under
// FAULTSHIM_ONCE. A call that goes through finds errno as it was.
static int fault_due(const char *call, int fd) {
    int saved = errno;
    int due = should_fail(call, fd);
    errno = due ? number("FAULTSHIM_ERRNO", EIO) : saved;
    return due;
}

static int partial(void) {
    const char *value = getenv("FAULTSHIM_PARTIAL");
    return value != NULL && strcmp(value, "1") == 0;
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    if (fault_due("fdatasync", fd)) return -1;
    return real(fd);
}

int fsync(int fd) {
    static int (*real)(int);
    if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    if (fault_due("fsync", fd)) return -1;
    return real(fd);
}

typedef ssize_t (*pwritev_function)(int, const struct iovec *, int, off_t);

// Half of the bytes of `vector`, written with `real`, before the call reports EIO.
static void write_half(pwritev_function real, int fd, const struct iovec *vector, int count, off_t offset) {
    size_t total = 0;
    for (int index = 0; index < count; index++) total += vector[index].iov_len;
    size_t left = total / 2;
    struct iovec half[count > 0 ? count : 1];
    int used = 0;
    for (int index = 0; index < count && left > 0; index++) {
        size_t take = vector[index].iov_len < left ? vector[index].iov_len : left;
        half[used].iov_base = vector[index].iov_base;
        half[used].iov_len = take;
        used++;
        left -= take;
    }
    if (used > 0) real(fd, half, used, offset);
}

static ssize_t faulty_pwritev(const char *symbol, pwritev_function *real, int fd, const struct iovec *vector, int count, off_t offset) {
    if (*real == NULL) *real = (pwritev_function)dlsym(RTLD_NEXT, symbol);
    if (fault_due("pwritev", fd)) {
        int error = errno;
        if (partial()) write_half(*real, fd, vector, count, offset);
        errno = error;
        return -1;
    }
    return (*real)(fd, vector, count, offset);
}

ssize_t pwritev(int fd, const struct iovec *vector, int count, off_t offset) {
    static pwritev_function real;
    return faulty_pwritev("pwritev", &real, fd, vector, count, offset);
}

ssize_t pwritev64(int fd, const struct iovec *vector, int count, off_t offset) {
    static pwritev_function real;
    return faulty_pwritev("pwritev64", &real, fd, vector, count, offset);
}

typedef ssize_t (*pwrite_function)(int, const void *, size_t, off_t);

static ssize_t faulty_pwrite(const char *symbol, pwrite_function *real, int fd, const void *buffer, size_t count, off_t offset) {
    if (*real == NULL) *real = (pwrite_function)dlsym(RTLD_NEXT, symbol);
    if (fault_due("pwrite", fd)) return -1;
    return (*real)(fd, buffer, count, offset);
}

ssize_t pwrite(int fd, const void *buffer, size_t count, off_t offset) {
    static pwrite_function real;
    return faulty_pwrite("pwrite", &real, fd, buffer, count, offset);
}

ssize_t pwrite64(int fd, const void *buffer, size_t count, off_t offset) {
    static pwrite_function real;
    return faulty_pwrite("pwrite64", &real, fd, buffer, count, offset);
}

ssize_t write(int fd, const void *buffer, size_t count) {
    static ssize_t (*real)(int, const void *, size_t);
    if (real == NULL) real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    if (fault_due("write", fd)) return -1;
    return real(fd, buffer, count);
}

typedef int (*fallocate_function)(int, int, off_t, off_t);

static int faulty_fallocate(const char *symbol, fallocate_function *real, int fd, int mode, off_t offset, off_t length) {
    if (*real == NULL) *real = (fallocate_function)dlsym(RTLD_NEXT, symbol);
    if (fault_due("fallocate", fd)) return -1;
    return (*real)(fd, mode, offset, length);
}

int fallocate(int fd, int mode, off_t offset, off_t length) {
    static fallocate_function real;
    return faulty_fallocate("fallocate", &real, fd, mode, offset, length);
}

int fallocate64(int fd, int mode, off_t offset, off_t length) {
    static fallocate_function real;
    return faulty_fallocate("fallocate64", &real, fd, mode, offset, length);
}

typedef int (*posix_fallocate_function)(int, off_t, off_t);

// posix_fallocate returns the error instead of setting errno.
static int faulty_posix_fallocate(const char *symbol, posix_fallocate_function *real, int fd, off_t offset, off_t length) {
    if (*real == NULL) *real = (posix_fallocate_function)dlsym(RTLD_NEXT, symbol);
    if (fault_due("fallocate", fd)) return errno;
    return (*real)(fd, offset, length);
}

int posix_fallocate(int fd, off_t offset, off_t length) {
    static posix_fallocate_function real;
    return faulty_posix_fallocate("posix_fallocate", &real, fd, offset, length);
}

int posix_fallocate64(int fd, off_t offset, off_t length) {
    static posix_fallocate_function real;
    return faulty_posix_fallocate("posix_fallocate64", &real, fd, offset, length);
}
"""#
}
