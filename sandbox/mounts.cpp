// Executes the staging, the mount plan and the final pivot (mounts.h). No allocation here.
#include "sandbox/mounts.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace gossamer::sandbox {
namespace {

bool fail(ChildReport& error, const char* what, const char* path) {
    error = make_report(ReportKind::setup_failed, 0, errno, what, path);
    return false;
}

// Flags the kernel locks on a mount we do not own (e.g. nosuid on the host's /tmp): a
// remount inside a user namespace must keep them or it fails with EPERM.
unsigned long locked_flags(const char* path) {
    struct statvfs st {};
    if (::statvfs(path, &st) != 0) return 0;
    unsigned long flags = 0;
    if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
    if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
    if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
    if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
    if (st.f_flag & ST_RDONLY) flags |= MS_RDONLY;
    return flags;
}

// Sets attributes on a bind and, with mount_setattr (5.12+), on every mount below it; older
// kernels get a classic remount of the top mount only.
bool set_attributes(const char* path, std::uint64_t attr, unsigned long ms_flags,
                    ChildReport& error) {
    struct mount_attr ma {};
    ma.attr_set = attr;
    if (::mount_setattr(AT_FDCWD, path, AT_RECURSIVE | AT_SYMLINK_NOFOLLOW, &ma, sizeof ma) == 0)
        return true;
    if (errno != ENOSYS) return fail(error, "mount_setattr", path);
    const unsigned long flags = MS_BIND | MS_REMOUNT | ms_flags | locked_flags(path);
    if (::mount(nullptr, path, nullptr, flags, nullptr) != 0)
        return fail(error, "mount(MS_REMOUNT)", path);
    return true;
}

bool bind(const MountStep& step, bool recursive, ChildReport& error) {
    if (step.source_fd >= 0) {  // a tree the launcher detached for us (mount_plan.h)
        const long moved = ::syscall(SYS_move_mount, step.source_fd, "", AT_FDCWD,
                                     step.target.c_str(), MOVE_MOUNT_F_EMPTY_PATH);
        ::close(step.source_fd);
        if (moved == 0) return true;
        // A kernel that refuses detached trees here: bind by path (works where the folders
        // above the source are open to us; otherwise its error says which folder).
    }
    const unsigned long flags = MS_BIND | (recursive ? MS_REC : 0);
    if (::mount(step.source.c_str(), step.target.c_str(), nullptr, flags, nullptr) != 0)
        return fail(error, "mount(MS_BIND)", step.source.c_str());
    return true;
}

// A protected path (MountOp::protect): opened beneath the workspace mount with no symlinks
// anywhere on the way (so a path swapped for a link since the plan was made cannot redirect
// it), then a read-only copy of exactly that tree is moved over it. Gone since the plan:
// nothing to protect. A symlink, or a kernel without openat2 / the new mount API: refused.
bool protect(const MountStep& step, ChildReport& error) {
    const int workspace = ::open(step.source.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (workspace < 0) return fail(error, "open(workspace)", step.source.c_str());
    struct open_how how {};
    how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    const int path =
        static_cast<int>(::syscall(SYS_openat2, workspace, step.data.c_str(), &how, sizeof how));
    const int open_errno = errno;
    ::close(workspace);
    if (path < 0) {
        errno = open_errno;
        if (errno == ENOENT) return true;
        return fail(error, "openat2(protected path, no symlinks)", step.target.c_str());
    }
    const int tree = static_cast<int>(
        ::syscall(SYS_open_tree, path, "",
                  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE));
    if (tree < 0) {
        const int saved = errno;
        ::close(path);
        errno = saved;
        return fail(error, "open_tree(protected path)", step.target.c_str());
    }
    struct mount_attr ma {};
    ma.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    bool ok = ::mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &ma, sizeof ma) == 0;
    const char* what = "mount_setattr(protected path)";
    if (ok) {
        ok = ::syscall(SYS_move_mount, tree, "", path, "",
                       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) == 0;
        what = "move_mount(protected path)";
    }
    const int saved = errno;
    ::close(tree);
    ::close(path);
    errno = saved;
    return ok || fail(error, what, step.target.c_str());
}

bool touch(const char* path, mode_t mode, ChildReport& error) {
    const int fd = ::open(path, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) return fail(error, "open(O_CREAT)", path);
    ::close(fd);
    return true;
}

bool write_file(const MountStep& step, ChildReport& error) {
    const int fd =
        ::open(step.target.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
               static_cast<mode_t>(step.mode));
    if (fd < 0) return fail(error, "open(O_CREAT)", step.target.c_str());
    const char* data = step.data.data();
    std::size_t left = step.data.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, data, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(fd);
            return fail(error, "write", step.target.c_str());
        }
        data += n;
        left -= static_cast<std::size_t>(n);
    }
    ::close(fd);
    return true;
}

bool run_step(const MountStep& step, ChildReport& error) {
    const char* target = step.target.c_str();
    constexpr unsigned long kNoSuidDev = MS_NOSUID | MS_NODEV;
    switch (step.op) {
        case MountOp::tmpfs:
            if (::mount("tmpfs", target, "tmpfs", kNoSuidDev, step.data.c_str()) != 0)
                return fail(error, "mount(tmpfs)", target);
            return true;
        case MountOp::mkdir:
            if (::mkdir(target, static_cast<mode_t>(step.mode)) != 0 && errno != EEXIST)
                return fail(error, "mkdir", target);
            if (step.mode & S_ISVTX) ::chmod(target, static_cast<mode_t>(step.mode));
            return true;
        case MountOp::touch:
            return touch(target, static_cast<mode_t>(step.mode), error);
        case MountOp::symlink:
            if (::symlink(step.source.c_str(), target) != 0) return fail(error, "symlink", target);
            return true;
        case MountOp::bind_ro:
            return bind(step, true, error) &&
                   set_attributes(target, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                                  MS_RDONLY | kNoSuidDev, error);
        case MountOp::bind_rw:
            return bind(step, true, error) &&
                   set_attributes(target, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, kNoSuidDev, error);
        case MountOp::bind_dev:
            return bind(step, false, error) &&
                   set_attributes(target, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
                                  MS_RDONLY | MS_NOSUID | MS_NOEXEC, error);
        case MountOp::proc:
            if (::mount("proc", target, "proc", kNoSuidDev | MS_NOEXEC, nullptr) != 0)
                return fail(error, "mount(proc)", target);
            return true;
        case MountOp::write_file:
            return write_file(step, error);
        case MountOp::protect:
            return protect(step, error);
        case MountOp::remount_ro:
            if (::mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | kNoSuidDev,
                        nullptr) != 0)
                return fail(error, "mount(MS_REMOUNT|MS_RDONLY)", target);
            return true;
    }
    return fail(error, "unknown mount step", target);
}

}  // namespace

// Inside a chroot whose root is not a mount point, "/" can be neither made private nor
// pivoted. As real root (namespaces made without a user namespace) we leave the chroot for
// the root of our new mount namespace, make every mount private there, and come back on a
// private copy of the chroot's tree, whose root is a mount point. Nothing propagates to the
// host: the copy is attached only once every mount around it is private.
bool enter_chroot_as_mount(ChildReport& error) {
    const int old_root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (old_root < 0) return fail(error, "open", "/");
    // chroot into a subfolder keeps our cwd outside the root, so ".." climbs to the real one
    if (::chdir("/") != 0 || ::chroot("/tmp") != 0) return fail(error, "chroot", "/tmp");
    for (int i = 0; i < 256; ++i)
        if (::chdir("..") != 0) return fail(error, "chdir", "..");
    if (::chroot(".") != 0) return fail(error, "chroot", "the namespace's root");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        return fail(error, "mount(/, MS_REC|MS_PRIVATE)", "/");
    const int tree = static_cast<int>(
        ::syscall(SYS_open_tree, old_root, "",
                  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE));
    if (tree < 0) return fail(error, "open_tree", "the chroot");
    if (::syscall(SYS_move_mount, tree, "", old_root, "",
                  MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        return fail(error, "move_mount", "the chroot");
    if (::fchdir(tree) != 0 || ::chroot(".") != 0) return fail(error, "chroot", "the chroot");
    ::close(tree);
    ::close(old_root);
    return ::chdir("/") == 0 || fail(error, "chdir", "/");
}

bool enter_staging(ChildReport& error) {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        const bool chroot_as_root = errno == EINVAL && ::geteuid() == 0;
        if (!chroot_as_root) return fail(error, "mount(/, MS_REC|MS_PRIVATE)", "/");
        if (!enter_chroot_as_mount(error)) return false;
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            return fail(error, "mount(/, MS_REC|MS_PRIVATE)", "/ (the chroot's copy)");
    }
    // The staging tmpfs covers the host's /tmp only until the pivot below moves it to /.
    if (::mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k") != 0)
        return fail(error, "mount(tmpfs)", "/tmp");
    if (::mkdir("/tmp/oldroot", 0755) != 0) return fail(error, "mkdir", "/tmp/oldroot");
    if (::mkdir("/tmp/newroot", 0755) != 0) return fail(error, "mkdir", "/tmp/newroot");
    if (::syscall(SYS_pivot_root, "/tmp", "/tmp/oldroot") != 0)
        return fail(error, "pivot_root", "/tmp");
    if (::chdir("/") != 0) return fail(error, "chdir", "/");
    return true;
}

bool run_mount_plan(const std::vector<MountStep>& plan, ChildReport& error) {
    for (const MountStep& step : plan)
        if (!run_step(step, error)) return false;
    return true;
}

bool enter_new_root(ChildReport& error) {
    if (::chdir(kNewRoot) != 0) return fail(error, "chdir", kNewRoot);
    // pivot_root(".", "."): the old root is stacked on the new one, then detached with
    // everything under it (the staging tmpfs and the host at kOldRoot).
    if (::syscall(SYS_pivot_root, ".", ".") != 0) return fail(error, "pivot_root", kNewRoot);
    if (::umount2(".", MNT_DETACH) != 0) return fail(error, "umount2(MNT_DETACH)", kOldRoot);
    if (::chdir("/") != 0) return fail(error, "chdir", "/");
    return true;
}

}  // namespace gossamer::sandbox
