#include "store/sqlite/sqlite_db.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.h"

// The SQLite group commit: writes that arrive while a batch runs share the next transaction; one that fails is
// undone alone, whether the batch ran with or without savepoints; writes made without waiting are told of
// their commit, on the database's committer thread, never holding their caller; a write made from such a
// callback runs at once instead of waiting for its own thread; closing the database commits what still waits.
namespace weft::sqlite {
namespace {

using sql::Connection;
using sql::Statement;

class GroupCommitTest : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = std::make_unique<Database>(dir_.File("t.db"), 1);
        ASSERT_TRUE(db_->Write([](Connection& c) -> Status {
                           c.Exec("CREATE TABLE t (v TEXT NOT NULL UNIQUE)");
                           return Ok();
                       })
                        .ok());
    }

    static Status Insert(Connection& c, const std::string& v) {
        Statement s(c, "INSERT INTO t (v) VALUES (?)");
        s.Bind(v);
        return s.Run();
    }

    std::vector<std::string> Rows() {
        return db_->Read([](Connection& c) {
            std::vector<std::string> out;
            Statement s(c, "SELECT v FROM t ORDER BY v");
            while (*s.Step()) out.push_back(s.Text(0));
            return out;
        });
    }

    // Holds the leader inside its own write until Release(), so that the writes queued meanwhile (asynchronous
    // ones return at once) form the next batch together.
    void HoldLeader() {
        leader_ = std::thread([this] {
            auto r = db_->Write([this](Connection& c) -> Status {
                if (auto s = Insert(c, "leader"); !s) return s;
                std::unique_lock lock(mu_);
                leading_ = true;
                cv_.notify_all();
                cv_.wait(lock, [this] { return released_; });
                return Ok();
            });
            EXPECT_TRUE(r.ok());
        });
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return leading_; });
    }
    void Release() {
        {
            std::lock_guard lock(mu_);
            released_ = true;
        }
        cv_.notify_all();
        leader_.join();
    }

    // An asynchronous write whose outcome lands in outcomes_[name].
    void WriteLater(const std::string& name, std::function<Status(Connection&)> fn) {
        db_->WriteAsync<Status>(std::move(fn), [this, name](Status s) {
            std::lock_guard lock(mu_);
            outcomes_.emplace(name, s.ok() ? std::string("ok") : s.error().detail);
            cv_.notify_all();
        });
    }
    void AwaitOutcomes(std::size_t n) {
        std::unique_lock lock(mu_);
        ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(10), [&] { return outcomes_.size() == n; }));
    }

    testing::TempDir dir_;
    std::unique_ptr<Database> db_;
    std::thread leader_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool leading_ = false, released_ = false;
    std::map<std::string, std::string> outcomes_;
};

TEST_F(GroupCommitTest, AWriteThatFailsAfterChangingRowsIsUndoneAloneInItsBatch) {
    HoldLeader();
    WriteLater("a", [](Connection& c) { return Insert(c, "a"); });
    WriteLater("half", [](Connection& c) -> Status {
        if (auto s = Insert(c, "half-1"); !s) return s;
        return Error::Conflict("second half refused");  // after a row was written
    });
    WriteLater("b", [](Connection& c) { return Insert(c, "b"); });
    Release();
    AwaitOutcomes(3);
    EXPECT_EQ(outcomes_["a"], "ok");
    EXPECT_EQ(outcomes_["b"], "ok");
    EXPECT_NE(outcomes_["half"], "ok");
    EXPECT_EQ(Rows(), (std::vector<std::string>{"a", "b", "leader"}));
}

TEST_F(GroupCommitTest, ARefusalThatWroteNothingLeavesTheOthersOfItsBatchAlone) {
    HoldLeader();
    WriteLater("a", [](Connection& c) { return Insert(c, "a"); });
    WriteLater("refused", [](Connection&) -> Status { return Error::Conflict("queue full"); });
    WriteLater("dup", [](Connection& c) { return Insert(c, "a"); });  // a constraint violation: nothing written
    WriteLater("b", [](Connection& c) { return Insert(c, "b"); });
    Release();
    AwaitOutcomes(4);
    EXPECT_EQ(outcomes_["a"], "ok");
    EXPECT_NE(outcomes_["refused"], "ok");
    EXPECT_NE(outcomes_["dup"], "ok");
    EXPECT_EQ(outcomes_["b"], "ok");
    EXPECT_EQ(Rows(), (std::vector<std::string>{"a", "b", "leader"}));
}

TEST_F(GroupCommitTest, AWriteThatThrowsIsUndoneAloneAndItsCallerHearsWhy) {
    HoldLeader();
    WriteLater("a", [](Connection& c) { return Insert(c, "a"); });
    WriteLater("throws", [](Connection& c) -> Status {
        if (auto s = Insert(c, "thrown"); !s) return s;
        throw std::runtime_error("broken write");
    });
    WriteLater("b", [](Connection& c) { return Insert(c, "b"); });
    Release();
    AwaitOutcomes(3);
    EXPECT_EQ(outcomes_["throws"], "broken write");
    EXPECT_EQ(Rows(), (std::vector<std::string>{"a", "b", "leader"}));
}

TEST_F(GroupCommitTest, AWriteAloneThatFailsIsRolledBackWhole) {
    auto r = db_->Write([](Connection& c) -> Status {
        if (auto s = Insert(c, "x"); !s) return s;
        return Error::Conflict("no");
    });
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(Rows().empty());
    EXPECT_TRUE(db_->Write([](Connection& c) { return Insert(c, "y"); }).ok());
    EXPECT_EQ(Rows(), std::vector<std::string>{"y"});
}

TEST_F(GroupCommitTest, AWriteFromACommitCallbackRunsAtOnce) {
    // The callback runs on the leader's thread; a write it makes must not wait for that same thread.
    HoldLeader();
    WriteLater("first", [](Connection& c) { return Insert(c, "first"); });
    db_->WriteAsync<Status>([](Connection& c) { return Insert(c, "outer"); },
                            [this](Status s) {
                                ASSERT_TRUE(s.ok());
                                auto inner = db_->Write([](Connection& c) { return Insert(c, "inner"); });
                                std::lock_guard lock(mu_);
                                outcomes_.emplace("inner", inner.ok() ? "ok" : inner.error().detail);
                                cv_.notify_all();
                            });
    Release();
    AwaitOutcomes(2);
    EXPECT_EQ(outcomes_["inner"], "ok");
    EXPECT_EQ(Rows(), (std::vector<std::string>{"first", "inner", "leader", "outer"}));
}

TEST_F(GroupCommitTest, AnAsynchronousWriteNeverHoldsItsCaller) {
    // With no leader, the write is the committer thread's: WriteAsync returns before its fn runs to the end.
    std::mutex mu;
    std::condition_variable cv;
    bool returned = false;
    std::thread::id writer;
    WriteLater("w", [&](Connection& c) -> Status {
        std::unique_lock lock(mu);
        writer = std::this_thread::get_id();
        if (!cv.wait_for(lock, std::chrono::seconds(10), [&] { return returned; })) {
            return Error::Internal("WriteAsync had not returned");
        }
        return Insert(c, "w");
    });
    {
        std::lock_guard lock(mu);
        returned = true;
    }
    cv.notify_all();
    AwaitOutcomes(1);
    EXPECT_EQ(outcomes_["w"], "ok");
    EXPECT_NE(writer, std::this_thread::get_id());
    EXPECT_EQ(Rows(), std::vector<std::string>{"w"});
}

TEST_F(GroupCommitTest, ASynchronousLeaderLeavesTheAsynchronousWritesToTheCommitter) {
    // Once its own write is committed, a synchronous leader goes back to its caller: the asynchronous writes
    // queued meanwhile are committed on another thread.
    HoldLeader();
    const std::thread::id leader = leader_.get_id();
    std::mutex mu;
    std::vector<std::thread::id> writers;
    for (const char* v : {"a", "b"}) {
        WriteLater(v, [&, v = std::string(v)](Connection& c) {
            std::lock_guard lock(mu);
            writers.push_back(std::this_thread::get_id());
            return Insert(c, v);
        });
    }
    Release();
    AwaitOutcomes(2);
    EXPECT_EQ(outcomes_["a"], "ok");
    EXPECT_EQ(outcomes_["b"], "ok");
    ASSERT_FALSE(writers.empty());
    for (const auto& id : writers) EXPECT_NE(id, leader);
    EXPECT_EQ(Rows(), (std::vector<std::string>{"a", "b", "leader"}));
}

TEST_F(GroupCommitTest, AsynchronousWritesStillWaitingWhenTheDatabaseCloses) {
    // Closing the database commits what was queued (and tells its callers) first.
    HoldLeader();
    for (int i = 0; i < 20; ++i) {
        const std::string v = "late-" + std::to_string(i);
        WriteLater(v, [v](Connection& c) { return Insert(c, v); });
    }
    Release();
    db_.reset();
    EXPECT_EQ(outcomes_.size(), 20u);
    for (const auto& [name, outcome] : outcomes_) EXPECT_EQ(outcome, "ok") << name;
    db_ = std::make_unique<Database>(dir_.File("t.db"), 1);
    EXPECT_EQ(Rows().size(), 21u);
}

TEST_F(GroupCommitTest, FlushReturnsOnceEveryAsynchronousWriteIsToldOfItsCommit) {
    HoldLeader();
    for (int i = 0; i < 20; ++i) {
        const std::string v = "w-" + std::to_string(i);
        WriteLater(v, [v](Connection& c) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            return Insert(c, v);
        });
    }
    Release();  // the leader goes back to its caller: the committer has the writes now
    db_->Flush();
    {
        std::lock_guard lock(mu_);
        EXPECT_EQ(outcomes_.size(), 20u);
    }
    EXPECT_EQ(Rows().size(), 21u);
}

TEST_F(GroupCommitTest, ManyConcurrentWritersAllCommit) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([this, t] {
            for (int i = 0; i < 50; ++i) {
                const std::string v = std::to_string(t) + "-" + std::to_string(i);
                if (i % 2) {
                    EXPECT_TRUE(db_->Write([&](Connection& c) { return Insert(c, v); }).ok());
                } else {
                    WriteLater(v, [v](Connection& c) { return Insert(c, v); });
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    AwaitOutcomes(8 * 25);
    for (const auto& [name, outcome] : outcomes_) EXPECT_EQ(outcome, "ok") << name;
    EXPECT_EQ(Rows().size(), 400u);
}

}  // namespace
}  // namespace weft::sqlite
