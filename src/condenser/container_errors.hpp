// What a container request can fail with, beyond bad arguments (InvalidContainerArgument) and a
// taken name (NameInUse): mapped to named D-Bus errors in errors.cpp.
#pragma once

#include "error.hpp"

namespace condenser {

class NoSuchContainer : public raind::Error {
public:
    explicit NoSuchContainer(const std::string& name) : raind::Error("no such container: " + name) {}
};

class ContainerRunning : public raind::Error {
public:
    using raind::Error::Error;
};

class ContainerNotRunning : public raind::Error {
public:
    using raind::Error::Error;
};

} // namespace condenser
