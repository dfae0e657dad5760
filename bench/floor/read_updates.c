/* The floor of a no-op start's file work: every file of every update folder in DIR opened
 * relative to its folder, read and closed, on THREADS threads (default 4), with nothing
 * parsed, checked or hashed. What reading a long history costs this machine's kernel
 * before any program logic; bench/run.sh prints it beside the installer's no-op start.
 *
 *   read_updates DIR [THREADS]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int root_fd;
static char** folders;
static size_t folder_count;
static atomic_size_t next_folder;

static void read_folder(const char* name, char* buffer, size_t size) {
  int fd = openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  DIR* dir = fdopendir(fd);
  if (!dir) {
    close(fd);
    return;
  }
  struct dirent* entry;
  while ((entry = readdir(dir)) != NULL) {
    if (entry->d_name[0] == '.' || entry->d_type == DT_DIR) continue;
    int file = openat(dirfd(dir), entry->d_name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (file < 0) continue;
    while (read(file, buffer, size) > 0) {
    }
    close(file);
  }
  closedir(dir);
}

static void* work(void* unused) {
  (void)unused;
  static _Thread_local char buffer[1 << 16];
  for (size_t i = atomic_fetch_add(&next_folder, 1); i < folder_count; i = atomic_fetch_add(&next_folder, 1))
    read_folder(folders[i], buffer, sizeof buffer);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: read_updates DIR [THREADS]\n");
    return 64;
  }
  int threads = argc > 2 ? atoi(argv[2]) : 4;
  if (threads < 1 || threads > 64) threads = 4;
  root_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* root = root_fd < 0 ? NULL : fdopendir(dup(root_fd));
  if (!root) {
    perror(argv[1]);
    return 66;
  }
  size_t capacity = 1024;
  folders = malloc(capacity * sizeof *folders);
  struct dirent* entry;
  while (folders && (entry = readdir(root)) != NULL) {
    if (entry->d_name[0] == '.') continue;
    if (folder_count == capacity) folders = realloc(folders, (capacity *= 2) * sizeof *folders);
    if (folders) folders[folder_count++] = strdup(entry->d_name);
  }
  closedir(root);
  if (!folders) return 70;
  pthread_t helpers[64];
  for (int t = 1; t < threads; ++t) pthread_create(&helpers[t], NULL, work, NULL);
  work(NULL);
  for (int t = 1; t < threads; ++t) pthread_join(helpers[t], NULL);
  return 0;
}
