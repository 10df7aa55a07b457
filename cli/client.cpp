#include "client.hpp"

#include <future>

namespace raind::cli {
namespace {
constexpr const char* service = ManagerProxy::service;
constexpr const char* manager_path = ManagerProxy::path;
constexpr std::string_view error_prefix = "org.raind.Condenser1.Error.";
} // namespace

ManagerProxy::ManagerProxy(sdbus::IConnection& connection, std::string destination)
    : ProxyInterfaces(connection, std::move(destination), manager_path) {
    registerProxy();
}

ManagerProxy::~ManagerProxy() { unregisterProxy(); }

void ManagerProxy::onImageProgress(const std::string& reference, const std::string& event, const std::string& digest,
                                   const uint64_t& current, const uint64_t& total) {
    if (progress_)
        progress_(reference, event, digest, current, total);
}

sdbus::MethodReply ManagerProxy::await(sdbus::MethodCall& call) {
    auto done = std::make_shared<std::promise<sdbus::MethodReply>>();
    auto result = done->get_future();
    getProxy().callMethod(
        call,
        [done](sdbus::MethodReply& reply, const sdbus::Error* error) {
            if (error)
                done->set_exception(std::make_exception_ptr(*error));
            else
                done->set_value(reply);
        },
        long_call_timeout_usec);
    return result.get();
}

std::future<int32_t> ManagerProxy::wait_async(const std::string& container) {
    auto done = std::make_shared<std::promise<int32_t>>();
    auto result = done->get_future();
    auto call = getProxy().createMethodCall(INTERFACE_NAME, "WaitContainer");
    call << container;
    getProxy().callMethod(
        call,
        [done](sdbus::MethodReply& reply, const sdbus::Error* error) {
            if (error) {
                done->set_exception(std::make_exception_ptr(*error));
                return;
            }
            int32_t status = -1;
            reply >> status;
            done->set_value(status);
        },
        long_call_timeout_usec);
    return result;
}

void Client::watch_signals() {
    if (watching_)
        return;
    connection_->enterEventLoopAsync();
    watching_ = true;
}

Client::~Client() {
    if (watching_)
        connection_->leaveEventLoop();
}

Client::Client()
    : connection_(sdbus::createSystemBusConnection()),
      manager_(std::make_unique<ManagerProxy>(*connection_, service)) {}

std::string describe(const sdbus::Error& error) {
    const std::string& name = error.getName();
    if (name == "org.freedesktop.DBus.Error.ServiceUnknown" || name == "org.freedesktop.DBus.Error.NoServer" ||
        name == "org.freedesktop.DBus.Error.FileNotFound")
        return "cannot reach condenser on the system bus (is raind installed and D-Bus running?): " +
               error.getMessage();
    if (name == "org.freedesktop.DBus.Error.AccessDenied")
        return "the system bus refused the request: " + error.getMessage();
    return error.getMessage().empty() ? name : error.getMessage();
}

int exit_status(const sdbus::Error& error) {
    const std::string& name = error.getName();
    if (name == std::string(error_prefix) + "PermissionDenied" || name == "org.freedesktop.DBus.Error.AccessDenied")
        return exit_denied;
    if (name.rfind(error_prefix, 0) == 0)
        return exit_failed;
    if (name.rfind("org.freedesktop.DBus.Error.", 0) == 0 || name.rfind("System.Error.", 0) == 0 ||
        name.rfind("sdbus.Error", 0) == 0)
        return exit_unavailable;
    return exit_failed;
}

} // namespace raind::cli
