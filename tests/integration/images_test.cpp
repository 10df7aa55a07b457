// Images through condenser as a user meets them: the raind CLI, busctl and the generated proxy
// against the fixture registries (plain, TLS + Basic, token), started inside the sandbox.
#include <gtest/gtest.h>
#include <sdbus-c++/sdbus-c++.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "condenser1-proxy.h"
#include "fixture_support.hpp"
#include "process.hpp"
#include "raind-config.h"
#include "systemd_client.hpp"
#include "tar_builder.hpp"

namespace {

namespace fs = std::filesystem;
using raind::test::run;

const fs::path state_dir = RAIND_STATE_DIR;
const fs::path store_dir = state_dir / "images";

class Manager final : public sdbus::ProxyInterfaces<org::raind::Condenser1::Manager_proxy> {
public:
    explicit Manager(sdbus::IConnection& connection)
        : ProxyInterfaces(connection, "org.raind.Condenser1", "/org/raind/Condenser1") {
        registerProxy();
    }
    ~Manager() { unregisterProxy(); }

private:
    void onImageProgress(const std::string&, const std::string&, const std::string&, const uint64_t&,
                         const uint64_t&) override {}
};

int exit_code(const raind::test::Output& out) { return WIFEXITED(out.status) ? WEXITSTATUS(out.status) : -1; }

std::vector<std::string> as(const std::string& user, std::vector<std::string> argv) {
    raind::test::Identity who = raind::test::identity_of(user);
    std::vector<std::string> full = {"/usr/bin/setpriv", "--reuid=" + std::to_string(who.uid),
                                     "--regid=" + std::to_string(who.gid), "--init-groups", "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    return full;
}

raind::test::Output raind_cli(std::vector<std::string> args) {
    args.insert(args.begin(), RAIND_BINDIR "/raind");
    return run(args);
}

size_t entries_in(const fs::path& dir) {
    std::error_code ec;
    size_t n = 0;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it)
        ++n;
    return n;
}

// Registries, trust and settings for the whole suite; the store on a tmpfs because the
// sandbox's /var is an overlay, and overlayfs refuses the 0/0 character devices that layer
// whiteouts become (a real /var/lib takes them).
class Images : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        fs::create_directories(state_dir);
        ASSERT_EQ(::mount("raind-test-store", state_dir.c_str(), "tmpfs", 0, "mode=0700"), 0) << strerror(errno);
        registries = new raind::fixtures::LocalRegistries(true);
        plain = registries->get("RAIND_REGISTRY_PLAIN");
        tls = registries->get("RAIND_REGISTRY_TLS");
        token = registries->get("RAIND_REGISTRY_TOKEN");
        auth_file = registries->get("RAIND_REGISTRY_AUTH_FILE");
        fs::create_directories("/etc/containers/certs.d/" + tls);
        fs::copy_file(registries->get("RAIND_REGISTRY_CA"), "/etc/containers/certs.d/" + tls + "/ca.crt",
                      fs::copy_options::overwrite_existing);
        fs::create_directories("/etc/raind");
        std::ofstream("/etc/raind/registries.conf") << "# the fixture registries speak plain HTTP\n"
                                                    << "insecure = " << plain << "\ninsecure = " << token << "\n";
    }
    static void TearDownTestSuite() {
        raind::test::SystemdClient systemd;
        systemd.stop_unit("condenser.service");
        delete registries;
        ::umount2(state_dir.c_str(), MNT_DETACH);
    }
    void TearDown() override {
        auto connection = sdbus::createSystemBusConnection();
        Manager manager(*connection);
        for (const auto& row : manager.ListImages())
            manager.RemoveImage(row.get<0>(), true);
    }

    static std::string pull(const std::string& reference, std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"pull", "-q", "--authfile", auth_file, reference};
        args.insert(args.end(), extra.begin(), extra.end());
        auto out = raind_cli(args);
        EXPECT_EQ(exit_code(out), 0) << reference << ": " << out.err;
        return out.out.substr(0, out.out.find('\n'));
    }
    static nlohmann::json inspect(const std::string& image) {
        auto out = raind_cli({"image", "inspect", image});
        EXPECT_EQ(exit_code(out), 0) << out.err;
        return nlohmann::json::parse(out.out).at(0);
    }
    static void expect_store_empty() {
        EXPECT_EQ(entries_in(store_dir / "blobs" / "sha256"), 0u);
        EXPECT_EQ(entries_in(store_dir / "layers"), 0u);
        auto images = raind_cli({"images", "-q"});
        EXPECT_EQ(images.out, "");
        auto tree = run({"/usr/bin/busctl", "tree", "org.raind.Condenser1"});
        EXPECT_EQ(tree.out.find("/org/raind/Condenser1/image/"), std::string::npos) << tree.out;
    }

    static inline raind::fixtures::LocalRegistries* registries = nullptr;
    static inline std::string plain, tls, token, auth_file;
};

TEST_F(Images, EveryFixtureImageInBothFormatsFromEveryRegistry) {
    std::map<std::string, std::set<std::string>> ids; // image -> ids seen
    for (const auto& registry : {plain, tls, token})
        for (const char* image : {"busybox", "layered", "httpd", "multiarch"})
            for (const char* tag : {"latest", "oci"})
                ids[image].insert(pull(registry + "/library/" + image + ":" + tag));
    // A Docker schema 2 and an OCI manifest of one image, from any registry, are one image.
    for (const auto& [image, seen] : ids)
        EXPECT_EQ(seen.size(), 1u) << image;
    auto listed = nlohmann::json::parse(raind_cli({"images", "--json"}).out);
    EXPECT_EQ(listed.size(), 4u);
    size_t names = 0;
    for (const auto& row : listed)
        names += row.at("Names").size();
    EXPECT_EQ(names, 24u);

    // The whiteouts and the opaque directory of "layered" became overlay ones.
    auto layered = inspect(plain + "/library/layered:oci");
    auto top = store_dir / "layers" / layered["RootFS"]["Layers"][1].get<std::string>().substr(7);
    EXPECT_TRUE(fs::is_character_file(top / "etc" / "motd"));
    EXPECT_EQ(raind::fixtures::read_file(top / "hello.txt").empty(), false);
    EXPECT_EQ(inspect(plain + "/library/httpd:latest")["Config"]["Entrypoint"][0], "/usr/sbin/httpd");

    // busctl shows one object per image, with its names as a property.
    auto tree = run({"/usr/bin/busctl", "tree", "org.raind.Condenser1"});
    for (const auto& [image, seen] : ids)
        EXPECT_NE(tree.out.find("/org/raind/Condenser1/image/" + seen.begin()->substr(7)), std::string::npos)
            << image << "\n" << tree.out;
    auto busybox_id = *ids["busybox"].begin();
    auto names_property = run({"/usr/bin/busctl", "get-property", "org.raind.Condenser1",
                               "/org/raind/Condenser1/image/" + busybox_id.substr(7), "org.raind.Condenser1.Image",
                               "Names"});
    EXPECT_NE(names_property.out.find(plain + "/library/busybox:oci"), std::string::npos) << names_property.out;

    // Removing every name removes every image, and with them every blob and layer.
    std::vector<std::string> rmi = {"rmi"};
    for (const auto& row : listed)
        for (const auto& name : row.at("Names"))
            rmi.push_back(name.get<std::string>());
    auto removed = raind_cli(rmi);
    EXPECT_EQ(exit_code(removed), 0) << removed.err;
    expect_store_empty();
}

TEST_F(Images, MultiarchPicksAmd64ByDefaultAndArm64OnRequest) {
    auto platform_of = [](const std::string& image) {
        auto doc = inspect(image);
        auto top = store_dir / "layers" / doc["RootFS"]["Layers"].back().get<std::string>().substr(7);
        return std::pair{doc["Architecture"].get<std::string>(), raind::fixtures::read_file(top / "etc" / "platform")};
    };
    pull(plain + "/library/multiarch:latest");
    auto [arch, file] = platform_of(plain + "/library/multiarch:latest");
    EXPECT_EQ(arch, "amd64");
    EXPECT_NE(file.find("amd64"), std::string::npos) << file;

    pull(plain + "/library/multiarch:oci", {"--platform", "linux/arm64"});
    std::tie(arch, file) = platform_of(plain + "/library/multiarch:oci");
    EXPECT_EQ(arch, "arm64");
    EXPECT_NE(file.find("arm64"), std::string::npos) << file;

    auto missing = raind_cli({"pull", plain + "/library/multiarch:oci", "--platform", "linux/s390x"});
    EXPECT_EQ(exit_code(missing), 1);
    EXPECT_NE(missing.err.find("s390x"), std::string::npos) << missing.err;
}

TEST_F(Images, ProgressIsReportedLinePerBlobWithoutATerminal) {
    auto out = raind_cli({"pull", plain + "/library/layered:latest"});
    ASSERT_EQ(exit_code(out), 0) << out.err;
    EXPECT_EQ(out.out.rfind("resolved sha256:", 0), 0u) << out.out;
    EXPECT_NE(out.out.find("download complete"), std::string::npos) << out.out;
    EXPECT_NE(out.out.find("unpacked"), std::string::npos) << out.out;
    EXPECT_EQ(out.out.find("\x1b["), std::string::npos) << "no cursor movement on a pipe";
    // The summary comes last.
    EXPECT_NE(out.out.find("pulled " + plain + "/library/layered:latest: sha256:"), std::string::npos);
    EXPECT_EQ(out.out.substr(out.out.rfind('\n', out.out.size() - 2) + 1).rfind("pulled ", 0), 0u) << out.out;
}

TEST_F(Images, ProgressBarsOnATerminal) {
    // script(1) gives raind a pty for stdout, as a person's terminal would.
    auto out = run({"/usr/bin/script", "-qec", std::string(RAIND_BINDIR "/raind pull ") + plain + "/library/httpd:oci",
                    "/dev/null"});
    ASSERT_EQ(exit_code(out), 0) << out.out << out.err;
    EXPECT_NE(out.out.find("\x1b["), std::string::npos) << "lines are redrawn in place";
    EXPECT_NE(out.out.find("Unpacked"), std::string::npos) << out.out;
    EXPECT_EQ(out.out.find("download complete"), std::string::npos) << "plain lines on a terminal";
    EXPECT_NE(out.out.find("pulled " + plain + "/library/httpd:oci"), std::string::npos) << out.out;
}

TEST_F(Images, CorruptedBlobIsRejectedAndLeavesNothing) {
    // Break the httpd layer in the plain registry's storage: same size, other bytes.
    auto index = nlohmann::json::parse(raind::fixtures::read_file(raind::fixtures::images_layout() / "index.json"));
    std::string manifest_digest;
    for (const auto& m : index["manifests"])
        if (m["annotations"]["org.opencontainers.image.ref.name"] == "httpd")
            manifest_digest = m["digest"];
    auto manifest = nlohmann::json::parse(raind::fixtures::read_file(raind::fixtures::images_layout() / "blobs" /
                                                                     "sha256" / manifest_digest.substr(7)));
    std::string layer = manifest["layers"].back()["digest"];
    raind::fixtures::LocalRegistries own(true); // its storage is broken below; the others stay whole
    fs::path data;
    for (const auto& entry : fs::recursive_directory_iterator(own.dir() / "data" / "plain"))
        if (entry.path().filename() == "data" && entry.path().parent_path().filename() == layer.substr(7))
            data = entry.path();
    ASSERT_FALSE(data.empty()) << "no blob " << layer << " under " << own.dir();
    std::string bytes = raind::fixtures::read_file(data);
    for (auto& c : bytes)
        c = static_cast<char>(c ^ 0x5a);
    std::ofstream(data, std::ios::binary | std::ios::trunc) << bytes;

    std::string reference = own.get("RAIND_REGISTRY_PLAIN") + "/library/httpd:oci";
    auto connection = sdbus::createSystemBusConnection();
    Manager manager(*connection);
    try {
        manager.PullImage(reference, {{"insecure", sdbus::Variant(true)}});
        ADD_FAILURE() << "a corrupted layer was accepted";
    } catch (const sdbus::Error& e) {
        EXPECT_EQ(e.getName(), "org.raind.Condenser1.Error.DigestMismatch") << e.getMessage();
        EXPECT_NE(e.getMessage().find(layer), std::string::npos) << e.getMessage();
    }
    // Again, now that the base layer may be in flight while the broken one fails.
    auto cli = raind_cli({"pull", "--tls-verify=false", reference});
    EXPECT_EQ(exit_code(cli), 1) << cli.err;
    EXPECT_NE(cli.err.find("digest mismatch"), std::string::npos) << cli.err;
    EXPECT_EQ(std::count(cli.err.begin(), cli.err.end(), '\n'), 1) << cli.err;
    expect_store_empty();
}

// A docker-save tarball with one crafted layer, loaded through condenser.
fs::path crafted_archive(const fs::path& dir, const std::string& name, raind::images::test::TarBuilder& layer) {
    using raind::images::test::TarBuilder;
    std::string layer_tar = layer.bytes();
    std::string diff_id = raind::fixtures::sha256_digest(layer_tar);
    std::string config = nlohmann::json{{"architecture", "amd64"},
                                        {"os", "linux"},
                                        {"config", nlohmann::json::object()},
                                        {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id}}}}}
                             .dump();
    std::string config_name = raind::fixtures::sha256_digest(config).substr(7) + ".json";
    std::string manifest =
        nlohmann::json::array({{{"Config", config_name}, {"RepoTags", {name}}, {"Layers", {"layer.tar"}}}}).dump();
    TarBuilder outer;
    outer.file("manifest.json", manifest).file(config_name, config).file("layer.tar", layer_tar);
    return outer.save(dir / "crafted.tar");
}

TEST_F(Images, CraftedLayersCannotWriteOutsideTheirDirectory) {
    raind::fixtures::TempDir dir;
    using raind::images::test::TarBuilder;
    {
        TarBuilder layer;
        layer.file("ok.txt", "fine").file("../escape", "out");
        auto out = raind_cli({"load", "-i", crafted_archive(dir.path(), "evil/dotdot:1", layer).string()});
        EXPECT_EQ(exit_code(out), 1);
        EXPECT_NE(out.err.find("escape"), std::string::npos) << out.err;
        EXPECT_FALSE(fs::exists(store_dir / "layers" / "escape"));
        EXPECT_FALSE(fs::exists(store_dir / "escape"));
    }
    {
        TarBuilder layer;
        layer.symlink("link", "/run").file("link/escape", "out");
        auto out = raind_cli({"load", "-i", crafted_archive(dir.path(), "evil/symlink:1", layer).string()});
        EXPECT_EQ(exit_code(out), 1);
        EXPECT_NE(out.err.find("link"), std::string::npos) << out.err;
        EXPECT_FALSE(fs::exists("/run/escape"));
    }
    expect_store_empty();
}

TEST_F(Images, UnprivilegedUserIsDeniedAndTheRaindGroupAllowed) {
    // The policy: read and manage-images need an administrator; group raind is let in by the rules.
    auto denied_pull = run(as("sdtest", {RAIND_BINDIR "/raind", "pull", plain + "/library/busybox:latest"}));
    EXPECT_EQ(exit_code(denied_pull), 77);
    EXPECT_EQ(denied_pull.err.rfind("raind: not authorized to org.raind.condenser.manage-images", 0), 0u)
        << denied_pull.err;
    auto denied_list = run(as("sdtest", {RAIND_BINDIR "/raind", "images"}));
    EXPECT_EQ(exit_code(denied_list), 77) << denied_list.err;
    expect_store_empty();

    auto allowed_pull = run(as("raindtest", {RAIND_BINDIR "/raind", "pull", plain + "/library/busybox:latest"}));
    EXPECT_EQ(exit_code(allowed_pull), 0) << allowed_pull.err;
    auto allowed_list = run(as("raindtest", {RAIND_BINDIR "/raind", "images"}));
    EXPECT_EQ(exit_code(allowed_list), 0) << allowed_list.err;
    EXPECT_NE(allowed_list.out.find(plain + "/library/busybox"), std::string::npos) << allowed_list.out;

    auto denied_rmi = run(as("sdtest", {RAIND_BINDIR "/raind", "rmi", plain + "/library/busybox:latest"}));
    EXPECT_EQ(exit_code(denied_rmi), 77);
    EXPECT_EQ(exit_code(raind_cli({"image", "inspect", plain + "/library/busybox:latest"})), 0)
        << "a denied rmi removed the image";
}

TEST_F(Images, TagPushRegistryControllerSaveAndLoad) {
    pull(plain + "/library/busybox:latest");
    std::string pushed = plain + "/me/copy:1";
    ASSERT_EQ(exit_code(raind_cli({"tag", plain + "/library/busybox:latest", pushed})), 0);
    auto push = raind_cli({"push", pushed});
    ASSERT_EQ(exit_code(push), 0) << push.err;
    EXPECT_NE(push.out.find("pushed " + pushed + ": sha256:"), std::string::npos) << push.out;

    auto catalog = raind_cli({"registry", "ls", plain});
    EXPECT_NE(catalog.out.find("me/copy\n"), std::string::npos) << catalog.out << catalog.err;
    auto tags = raind_cli({"registry", "tags", plain + "/me/copy"});
    EXPECT_EQ(tags.out, "1\n") << tags.err;

    raind::fixtures::TempDir dir;
    auto tarball = (dir.path() / "copy.tar").string();
    ASSERT_EQ(exit_code(raind_cli({"save", "-o", tarball, pushed})), 0);
    ASSERT_EQ(exit_code(raind_cli({"rmi", pushed, plain + "/library/busybox:latest"})), 0);
    expect_store_empty();
    auto load = raind_cli({"load", "-i", tarball});
    EXPECT_EQ(exit_code(load), 0) << load.err;
    EXPECT_NE(load.out.find("Loaded image: " + pushed), std::string::npos) << load.out;

    // Pull back what was pushed, then delete it from the registry.
    ASSERT_EQ(exit_code(raind_cli({"rmi", pushed})), 0);
    pull(pushed);
    auto deleted = raind_cli({"registry", "rm", pushed});
    EXPECT_EQ(exit_code(deleted), 0) << deleted.err;
    auto gone = raind_cli({"pull", pushed});
    EXPECT_EQ(exit_code(gone), 1);
    EXPECT_NE(gone.err.find("me/copy"), std::string::npos) << gone.err;
}

TEST_F(Images, LoginChecksCredentialsAndLogoutForgetsThem) {
    raind::fixtures::TempDir dir;
    auto file = (dir.path() / "auth.json").string();
    auto wrong = raind_cli({"login", "--authfile", file, "-u", "testuser", "-p", "nope", tls});
    EXPECT_EQ(exit_code(wrong), 77);
    EXPECT_NE(wrong.err.find("refused the credentials of user testuser"), std::string::npos) << wrong.err;
    EXPECT_FALSE(fs::exists(file));

    auto anonymous = raind_cli({"pull", "--authfile", file, tls + "/library/busybox:latest"});
    EXPECT_EQ(exit_code(anonymous), 77) << anonymous.err;

    auto login = run({RAIND_BINDIR "/raind", "login", "--authfile", file, "-u", "testuser", "--password-stdin", tls},
                     "testpassword\n");
    ASSERT_EQ(exit_code(login), 0) << login.err;
    EXPECT_EQ(exit_code(raind_cli({"pull", "--authfile", file, tls + "/library/busybox:latest"})), 0);
    EXPECT_EQ(exit_code(raind_cli({"logout", "--authfile", file, tls})), 0);
    EXPECT_EQ(exit_code(raind_cli({"logout", "--authfile", file, tls})), 1);
}

TEST_F(Images, ErrorsAreNamedAndOneLine) {
    auto connection = sdbus::createSystemBusConnection();
    Manager manager(*connection);
    auto name_of = [](auto call) {
        try {
            call();
        } catch (const sdbus::Error& e) {
            return e.getName();
        }
        return std::string("no error");
    };
    EXPECT_EQ(name_of([&] { manager.InspectImage("nosuch"); }), "org.raind.Condenser1.Error.NoSuchImage");
    EXPECT_EQ(name_of([&] { manager.PullImage("Bad//Name", {}); }), "org.raind.Condenser1.Error.InvalidArgument");
    EXPECT_EQ(name_of([&] { manager.PullImage(plain + "/library/busybox", {{"colour", sdbus::Variant(true)}}); }),
              "org.raind.Condenser1.Error.InvalidArgument");
    EXPECT_EQ(name_of([&] { manager.PullImage(plain + "/library/nosuch:1", {}); }),
              "org.raind.Condenser1.Error.Registry");

    auto rmi = raind_cli({"rmi", "nosuch"});
    EXPECT_EQ(exit_code(rmi), 1);
    EXPECT_EQ(rmi.err, "raind: no such image: nosuch\n");
    auto usage = raind_cli({"pull"});
    EXPECT_EQ(exit_code(usage), 2);
}

} // namespace
