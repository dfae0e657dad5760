// Ed25519 keys and update signatures: what `installer sign` writes verifies, and each way an
// update can differ from what was signed is named.
#include "catalog_fixture.hpp"
#include "installer/catalog/catalog.hpp"
#include "installer/catalog/update_signing.hpp"
#include "installer/signing/key_files.hpp"
#include "installer/signing/update_signature.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

using namespace installer;
using installer::unit_fixture::TempDir;
namespace fs = boost::filesystem;

namespace {

SignedContent sample_content() {
  return {"2.0", "2.0", {{"001_sp.up.sql", std::string(64, 'a')}, {"001_sp.down.sql", std::string(64, 'b')}}};
}

TrustedKeys trust(const PublicKey& key) {
  TrustedKeys keys;
  keys.by_id.emplace(key.id, key);
  keys.source = "test.pub";
  return keys;
}

std::vector<std::string> problems_of(const std::string& text, const SignedContent& actual, const TrustedKeys& keys) {
  return check_signature(text, actual, keys).problems;
}

bool has(const std::vector<std::string>& problems, const std::string& words) {
  for (const auto& p : problems)
    if (p.find(words) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("signatures: a signature verifies for the content it was made over, naming the key") {
  SecretKey key = generate_secret_key();
  std::string text = signature_file_text(sample_content(), key);
  SignatureVerdict verdict = check_signature(text, sample_content(), trust(key.public_key()));
  CHECK(verdict.problems.empty());
  CHECK(verdict.key_id == key.public_key().id);
  CHECK(verdict.key_id.size() == 16);
  CHECK(text.find(key.seed()) == std::string::npos);
}

TEST_CASE("signatures: a changed, added or missing file, another id, another key or an edited file is named") {
  SecretKey key = generate_secret_key();
  TrustedKeys keys = trust(key.public_key());
  std::string text = signature_file_text(sample_content(), key);

  SignedContent changed = sample_content();
  changed.files["001_sp.up.sql"] = std::string(64, 'c');
  CHECK(has(problems_of(text, changed, keys), "001_sp.up.sql changed after it was signed"));

  SignedContent added = sample_content();
  added.files["README.md"] = std::string(64, 'd');
  CHECK(has(problems_of(text, added, keys), "README.md is not covered by the signature"));

  SignedContent missing = sample_content();
  missing.files.erase("001_sp.down.sql");
  CHECK(has(problems_of(text, missing, keys), "001_sp.down.sql was signed but is missing"));

  SignedContent renamed = sample_content();
  renamed.update_id = "2.1";
  CHECK(has(problems_of(text, renamed, keys), "signed as update '2.0' version 2.0, but this is update '2.1'"));

  SecretKey other = generate_secret_key();
  CHECK(has(problems_of(text, sample_content(), trust(other.public_key())),
            "signed by the unknown key " + key.public_key().id));

  // Editing the file list in update.sig to match a changed file breaks the signature.
  std::string forged = text;
  forged.replace(forged.find(std::string(64, 'a')), 64, std::string(64, 'c'));
  CHECK(has(problems_of(forged, changed, keys), "bad signature"));

  // Claiming another trusted key's id does not help either.
  TrustedKeys both = keys;
  both.by_id.emplace(other.public_key().id, other.public_key());
  std::string claimed = text;
  claimed.replace(claimed.find(key.public_key().id), 16, other.public_key().id);
  CHECK(has(problems_of(claimed, sample_content(), both), "bad signature"));
}

TEST_CASE("signatures: an update.sig that is not what sign writes is refused naming the line") {
  SecretKey key = generate_secret_key();
  TrustedKeys keys = trust(key.public_key());
  std::string text = signature_file_text(sample_content(), key);
  CHECK(has(problems_of("", sample_content(), keys), "update.sig line 1: expected \"installer-update-signature 1\""));
  CHECK(has(problems_of(text.substr(0, text.find("key ")), sample_content(), keys),
            "update.sig line 6: expected \"key KEY_ID\""));
  CHECK(has(problems_of(text + "extra\n", sample_content(), keys), "nothing may follow the signature"));
  std::string bad64 = text.substr(0, text.rfind("signature ")) + "signature ***\n";
  CHECK(has(problems_of(bad64, sample_content(), keys), "the signature is not valid base64"));
}

TEST_CASE("signatures: a path with a line end cannot be signed") {
  SecretKey key = generate_secret_key();
  SignedContent content = sample_content();
  content.files["evil\nfile 0000 x"] = std::string(64, 'e');
  CHECK_THROWS_WITH_AS(signature_file_text(content, key), doctest::Contains("control character \\x0A"), SigningError);
}

TEST_CASE("key files: keygen writes 0600 and 0644 files that load back; it never overwrites") {
  TempDir tmp;
  std::string prefix = (tmp / "vendor").string();
  PublicKey pub = write_key_pair(prefix);
  struct stat st {};
  REQUIRE(::stat((prefix + ".key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((prefix + ".pub").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  CHECK(load_secret_key(prefix + ".key").public_key().id == pub.id);
  TrustedKeys keys = load_trusted_keys(prefix + ".pub");
  REQUIRE(keys.by_id.count(pub.id) == 1);
  CHECK(keys.by_id.at(pub.id).raw == pub.raw);
  CHECK_THROWS_WITH_AS(write_key_pair(prefix), doctest::Contains("exists already: not overwritten"), SigningError);
}

TEST_CASE("key files: a private key others may read is refused; its content is never in a message") {
  TempDir tmp;
  std::string prefix = (tmp / "vendor").string();
  write_key_pair(prefix);
  REQUIRE(::chmod((prefix + ".key").c_str(), 0640) == 0);
  CHECK_THROWS_WITH_AS(load_secret_key(prefix + ".key"),
                       doctest::Contains("may be read by others (mode 0640): chmod 600"), SigningError);
  // A damaged private key: the message names the file, not the bytes.
  tmp.write("bad.key", "installer-ed25519-secret 0123456789abcdef c2VjcmV0LXNlY3JldC1zZWNyZXQ=\n");
  REQUIRE(::chmod((tmp / "bad.key").c_str(), 0600) == 0);
  try {
    load_secret_key((tmp / "bad.key").string());
    FAIL("a 20-byte key was accepted");
  } catch (const SigningError& e) {
    CHECK(std::string(e.what()).find("not 32") != std::string::npos);
    CHECK(std::string(e.what()).find("c2VjcmV0") == std::string::npos);
  }
}

TEST_CASE("key files: trusted keys from a file or a directory of .pub files; mistakes name the file and line") {
  TempDir tmp;
  fs::create_directories(tmp / "keys");
  PublicKey a = write_key_pair((tmp / "keys" / "a").string());
  PublicKey b = write_key_pair((tmp / "keys" / "b").string());
  TrustedKeys dir = load_trusted_keys((tmp / "keys").string());
  CHECK(dir.by_id.size() == 2);
  CHECK(dir.by_id.count(a.id) == 1);
  CHECK(dir.by_id.count(b.id) == 1);
  tmp.write("list.pub", "# the vendor's keys\n\n" + public_key_line(a) + public_key_line(b));
  CHECK(load_trusted_keys((tmp / "list.pub").string()).by_id.size() == 2);
  tmp.write("typo.pub", public_key_line(a) + "installer-ed25519-public 0011 !!!\n");
  CHECK_THROWS_WITH_AS(load_trusted_keys((tmp / "typo.pub").string()),
                       doctest::Contains(
                           ((tmp / "typo.pub").string() + " line 2: the key is not valid base64").c_str()),
                       SigningError);
  tmp.write("empty.pub", "# nothing yet\n");
  CHECK_THROWS_WITH_AS(load_trusted_keys((tmp / "empty.pub").string()), doctest::Contains("holds no public key"),
                       SigningError);
  CHECK_THROWS_WITH_AS(load_trusted_keys((tmp / "missing.pub").string()), doctest::Contains("cannot read the key file"),
                       SigningError);
}

TEST_CASE("signatures: with trusted keys, an update directory loads only when signed; signed_by names the key") {
  TempDir tmp;
  tmp.write("u/2.0/001_sp.up.sql", "CREATE TABLE sp (id int);\n");
  tmp.write("u/2.0/001_sp.down.sql", "DROP TABLE sp;\n");
  SecretKey key = generate_secret_key();
  TrustedKeys keys = trust(key.public_key());
  CHECK_THROWS_WITH_AS(load_catalog({tmp / "u"}, Engine::postgres, {}, keys), doctest::Contains("refused: not signed"),
                       CatalogError);
  std::vector<Problem> problems;
  DirectoryFiles tree(tmp / "u" / "2.0");
  auto content = signed_content_of(tree, "2.0", "2.0", problems);
  REQUIRE(content);
  tmp.write("u/2.0/update.sig", signature_file_text(*content, key));
  Catalog catalog = load_catalog({tmp / "u"}, Engine::postgres, {}, keys);
  CHECK(catalog.updates.at(0).signed_by == key.public_key().id);
  // The signature is not part of the update's checksums: re-signing (a new key) changes neither.
  std::string checksum = catalog.updates[0].checksum, content_checksum = catalog.updates[0].content_checksum;
  SecretKey next = generate_secret_key();
  tmp.write("u/2.0/update.sig", signature_file_text(*content, next));
  Catalog resigned = load_catalog({tmp / "u"}, Engine::postgres, {}, trust(next.public_key()));
  CHECK(resigned.updates[0].checksum == checksum);
  CHECK(resigned.updates[0].content_checksum == content_checksum);
  // Without trusted keys nothing is checked, and signed_by stays empty.
  CHECK(load_catalog({tmp / "u"}, Engine::postgres).updates[0].signed_by.empty());
  // Another tool's folder cannot carry a signature: with trusted keys it is refused.
  tmp.write("flyway/V1__init.sql", "CREATE TABLE t (id int);\n");
  CHECK_THROWS_WITH_AS(load_catalog({tmp / "flyway"}, Engine::postgres, {}, keys),
                       doctest::Contains("a flyway folder cannot carry the installer's signatures"), CatalogError);
}

TEST_CASE("signatures: a linked file is covered under its own name, with the bytes it leads to") {
  TempDir tmp;
  tmp.write("shared/common.sql", "SELECT 1;\n");
  tmp.write("u/2.0/001_sp.up.sql", "CREATE TABLE sp (id int);\n");
  fs::create_symlink(tmp / "shared" / "common.sql", tmp / "u" / "2.0" / "notes.sql");
  std::vector<Problem> problems;
  auto content = signed_content_of(DirectoryFiles(tmp / "u" / "2.0"), "2.0", "2.0", problems);
  REQUIRE(content);
  CHECK(problems.empty());
  CHECK(content->files.count("notes.sql") == 1);
  CHECK(content->files.size() == 2);
}
