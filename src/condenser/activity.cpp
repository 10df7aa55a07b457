#include "activity.hpp"

namespace condenser {

Activity::Guard Activity::begin() {
    ++in_flight_;
    last_ = Clock::now().time_since_epoch().count();
    return Guard(this, [](void* self) {
        auto* activity = static_cast<Activity*>(self);
        activity->last_ = Clock::now().time_since_epoch().count();
        --activity->in_flight_;
    });
}

Activity::Clock::duration Activity::idle_for() const {
    if (busy())
        return Clock::duration::zero();
    return Clock::now() - Clock::time_point(Clock::duration(last_.load()));
}

} // namespace condenser
