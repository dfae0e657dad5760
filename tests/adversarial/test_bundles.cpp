// Service packs as signed bundles on a second volume: with trusted keys configured, only
// what a trusted key signed, exactly as signed, reaches the database; everything else is
// refused (exit 65) before the database is touched.
#include "../support/archive_maker.hpp"
#include "adversarial.hpp"
#include "installer/catalog/bundle_reader.hpp"
#include "installer/catalog/bundle_writer.hpp"

#include <boost/filesystem.hpp>

#include <fstream>
#include <iterator>

using namespace installer;
using namespace installer::adversarial;
using installer::testing::bytes_of;
namespace fs = boost::filesystem;

namespace {

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path.string(), std::ios::binary | std::ios::trunc);
  out << bytes;
}

/// Two vendor keys, an image whose update is signed, and a service pack folder.
struct SignedRelease {
  UpdateTree tree;  // image/, volume/, keys/, pack/2.0/
  fs::path image, volume, keys, pack;

  SignedRelease() {
    image = tree.root() / "image";
    volume = tree.root() / "volume";
    keys = tree.root() / "keys";
    pack = tree.root() / "pack" / "2.0";
    write_base_update(tree, "image/1.0");
    tree.write("pack/2.0/001_sp.up.sql", "CREATE TABLE adv_sp (id INT PRIMARY KEY);\n");
    tree.write("pack/2.0/001_sp.down.sql", "DROP TABLE adv_sp;\n");
    fs::create_directories(volume);
    fs::create_directories(tree.root() / "untrusted");
    fs::create_directories(keys);
    REQUIRE(run({"keygen", "-o", (keys / "vendor").string()}).exit_code == 0);
    REQUIRE(run({"keygen", "-o", (tree.root() / "untrusted" / "other").string()}).exit_code == 0);
    REQUIRE(run({"sign", (image / "1.0").string(), "--key", key()}).exit_code == 0);
  }
  std::string key() const { return (keys / "vendor.key").string(); }
  static RunResult run(const std::vector<std::string>& args) {
    auto r = testing::run_installer(args);
    INFO(r.all());
    return r;
  }
  /// migrate with the image and the volume, trusting keys/vendor.pub only.
  RunResult migrate(const ScratchDatabase& db) const {
    auto env = env_for(db, image.string() + ":" + volume.string());
    env["INSTALLER_TRUSTED_KEYS"] = (keys / "vendor.pub").string();
    return testing::run_installer({"migrate"}, env, std::chrono::seconds(60));
  }
};

/// The bundle's files, changed by `edit`, written as another bundle with no new signature.
void rewrite_bundle(const fs::path& from, const fs::path& to,
                    const std::function<void(std::map<std::string, std::string>&)>& edit) {
  std::vector<Problem> problems;
  auto tree = read_bundle(from, problems);
  REQUIRE(tree);
  std::map<std::string, std::string> files = tree->files();
  edit(files);
  write_bundle(tree->folder(), files, to);
}

}  // namespace

TEST_CASE("bundles: a signed service pack applies; the journal, status and history name the key") {
  ScratchDatabase db;
  SignedRelease release;
  REQUIRE(release
              .run({"bundle", release.pack.string(), "-o", (release.volume / "sp-2.0.tar.gz").string(), "--sign",
                    release.key()})
              .exit_code == 0);
  auto r = release.migrate(db);
  INFO(r.all());
  REQUIRE(r.exit_code == 0);
  CHECK(db.table_exists("adv_sp"));
  // vendor.pub: "installer-ed25519-public KEY_ID BASE64"
  std::string key_id = bytes_of(release.keys / "vendor.pub").substr(25, 16);
  CHECK(db.attempt_field(db.latest_attempt("2.0"), "signed_by") == key_id);
  CHECK(db.attempt_field(db.latest_attempt("1.0"), "signed_by") == key_id);
  auto env = env_for(db, release.image.string() + ":" + release.volume.string());
  auto status = testing::run_installer({"status", "--json"}, env);
  CHECK(status.out.find("\"signed_by\": \"" + key_id + "\"") != std::string::npos);
  auto history = testing::run_installer({"history"}, env);
  CHECK(history.out.find("signed by " + key_id) != std::string::npos);
  // A second start with the same bundle is a no-op, not a refusal.
  CHECK(release.migrate(db).exit_code == 0);
}

TEST_CASE("bundles: a changed byte, an added file, no signature or an unknown key: exit 65, nothing applied") {
  ScratchDatabase db;
  SignedRelease release;
  fs::path signed_bundle = release.tree.root() / "sp-2.0.tar";
  REQUIRE(
      release.run({"bundle", release.pack.string(), "-o", signed_bundle.string(), "--sign", release.key()}).exit_code ==
      0);
  REQUIRE(release.migrate(db).exit_code == 0);  // the image's update, so the journal exists
  auto before = state_of(db);
  fs::path dropped = release.volume / "sp-2.0.tar";
  struct Case {
    const char* what;
    std::function<void()> make;
    std::string message;
  };
  std::vector<Case> cases = {
      {"one byte changed in a script",
       [&] {
         std::string bytes = bytes_of(signed_bundle);
         size_t at = bytes.find("adv_sp (id INT");
         REQUIRE(at != std::string::npos);
         bytes[at + 11] = 'X';  // id -> iX, inside the tar, the archive itself still valid
         write_bytes(dropped, bytes);
       },
       "001_sp.up.sql changed after it was signed"},
      {"a file added",
       [&] {
         rewrite_bundle(signed_bundle, dropped,
                        [](auto& files) { files["002_more.up.sql"] = "DROP TABLE adv_base;\n"; });
       },
       "002_more.up.sql is not covered by the signature"},
      {"unsigned",
       [&] {
         REQUIRE(release.run({"bundle", release.pack.string(), "-o", dropped.string()}).exit_code == 0);
       },
       "refused: not signed (no update.sig)"},
      {"signed by an unknown key",
       [&] {
         REQUIRE(release
                     .run({"bundle", release.pack.string(), "-o", dropped.string(), "--sign",
                           (release.tree.root() / "untrusted" / "other.key").string()})
                     .exit_code == 0);
       },
       "signed by the unknown key"},
      {"a signed bundle of another update's name",
       [&] {
         // The same signed files under another folder name: another update id and version.
         std::vector<Problem> problems;
         auto tree = read_bundle(signed_bundle, problems);
         REQUIRE(tree);
         write_bundle("3.0", tree->files(), dropped);
       },
       "signed as update '2.0' version 2.0, but this is update '3.0' version 3.0"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    c.make();
    auto r = release.migrate(db);
    INFO(r.err);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find(dropped.string()) != std::string::npos);
    CHECK(r.err.find(c.message) != std::string::npos);
    CHECK(state_of(db) == before);
    CHECK_FALSE(db.table_exists("adv_sp"));
    fs::remove(dropped);
  }
}

TEST_CASE("bundles: a hostile archive on the volume is refused naming the entry, the database untouched") {
  ScratchDatabase db;
  UpdateTree tree;
  auto before = applied_base(db, tree);
  using testing::file;
  using testing::folder;
  struct Case {
    std::vector<testing::RawEntry> entries;
    std::string message;
  };
  std::vector<Case> cases = {
      {{folder("2.0/"), file("2.0/../../../tmp/owned.sql", "x")},
       "entry '2.0/../../../tmp/owned.sql': '..' in the path"},
      {{folder("2.0/"), {"2.0/001_x.up.sql", "", AE_IFLNK, "/etc/passwd", ""}},
       "entry '2.0/001_x.up.sql': a symbolic link (to '/etc/passwd')"},
      {{file("/2.0/001_x.up.sql", "x")}, "entry '/2.0/001_x.up.sql': an absolute path"},
      {{folder("2.0/"), {"2.0/zero", "", AE_IFCHR, "", ""}}, "entry '2.0/zero': a device"},
  };
  for (const auto& c : cases) {
    INFO(c.message);
    testing::make_tar(tree.root() / "pack.tar.gz", c.entries, "gzip");
    check_refused(db, tree, before, (tree.root() / "pack.tar.gz").string(), c.message);
    fs::remove(tree.root() / "pack.tar.gz");
  }
  CHECK_FALSE(fs::exists("/tmp/owned.sql"));
}

TEST_CASE("bundles: installer bundle writes the same bytes twice; keygen never overwrites and keeps the key 0600") {
  SignedRelease release;
  fs::path a = release.tree.root() / "a.tar.zst", b = release.tree.root() / "b.tar.zst";
  REQUIRE(release.run({"bundle", release.pack.string(), "-o", a.string(), "--sign", release.key()}).exit_code == 0);
  fs::last_write_time(release.pack / "001_sp.up.sql", 1234567890);  // times do not reach the bundle
  REQUIRE(release.run({"bundle", release.pack.string(), "-o", b.string(), "--sign", release.key()}).exit_code == 0);
  CHECK(bytes_of(a) == bytes_of(b));
  auto again = testing::run_installer({"keygen", "-o", (release.keys / "vendor").string()});
  CHECK(again.exit_code == 73);
  CHECK(again.err.find("exists already") != std::string::npos);
  CHECK((fs::status(release.keys / "vendor.key").permissions() & 0777) == 0600);
  // The private key's bytes appear in no output of any command that used it.
  std::string secret = bytes_of(release.keys / "vendor.key").substr(42, 44);
  auto signing = testing::run_installer({"bundle", release.pack.string(), "-o", a.string(), "--sign", release.key()});
  CHECK(signing.all().find(secret) == std::string::npos);
  CHECK(bytes_of(a).find(secret) == std::string::npos);
  // A private key others may read is refused, naming the file and the fix.
  fs::permissions(release.keys / "vendor.key", fs::perms(0644));
  auto loose = testing::run_installer({"sign", release.pack.string(), "--key", release.key()});
  CHECK(loose.exit_code == 78);
  CHECK(loose.err.find("chmod 600") != std::string::npos);
}

TEST_CASE("bundles: installer bundle refuses a link in the folder rather than ship what it points at") {
  SignedRelease release;
  fs::create_symlink("/etc/passwd", release.pack / "notes.txt");
  fs::path out = release.tree.root() / "sp.tar.gz";
  auto r = testing::run_installer({"bundle", release.pack.string(), "-o", out.string()});
  INFO(r.all());
  CHECK(r.exit_code == 65);
  CHECK(r.err.find((release.pack / "notes.txt").string() + ": is a symbolic link") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
  // And a bundle name the reader would not take is a usage error, before anything is read.
  auto zip = testing::run_installer({"bundle", release.pack.string(), "-o", (release.tree.root() / "sp.zip").string()});
  CHECK(zip.exit_code == 64);
  CHECK(zip.err.find("a bundle's name ends in .tar") != std::string::npos);
}

TEST_CASE("bundles: keys rotate: an update applied under the old key stays applied once re-signed by the new one") {
  ScratchDatabase db;
  SignedRelease release;
  REQUIRE(release.migrate(db).exit_code == 0);
  std::string old_id = bytes_of(release.keys / "vendor.pub").substr(25, 16);
  auto before = state_of(db);
  // The new key replaces the old one in the trust store; the image's update is signed again.
  fs::rename(release.keys / "vendor.pub", release.tree.root() / "retired.pub");
  fs::rename(release.keys / "vendor.key", release.tree.root() / "retired.key");
  REQUIRE(release.run({"keygen", "-o", (release.keys / "vendor").string()}).exit_code == 0);
  std::string new_id = bytes_of(release.keys / "vendor.pub").substr(25, 16);
  REQUIRE(new_id != old_id);
  // Signed only by the retired key, the image is refused now...
  auto refused = release.migrate(db);
  CHECK(refused.exit_code == 65);
  CHECK(refused.err.find("signed by the unknown key " + old_id) != std::string::npos);
  // ...and once re-signed it is the same update to the journal: nothing to do, no "changed".
  REQUIRE(release.run({"sign", (release.image / "1.0").string(), "--key", release.key()}).exit_code == 0);
  auto again = release.migrate(db);
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(state_of(db) == before);
  CHECK(db.attempt_field(db.latest_attempt("1.0"), "signed_by") == old_id);  // history keeps who signed it
}
