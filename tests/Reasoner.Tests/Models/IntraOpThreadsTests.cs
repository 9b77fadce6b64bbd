using Reasoner.Models;

namespace Reasoner.Tests.Models;

public class IntraOpThreadsTests
{
    // Three: a count neither the process default on these machines (one per core, 2) nor any test's --threads 1 gives.
    private const int Distinct = 3;

    private static T OnFreshThread<T>(Func<T> work)
    {
        T result = default!;
        var thread = new Thread(() => result = work());
        thread.Start();
        thread.Join();
        return result;
    }

    [Fact]
    public void ACountSetOnOneThreadStaysOnThatThread()
    {
        Assert.True(IntraOpThreads.IsSupported, "the Linux libtorch build exports the OpenMP and MKL setters");
        var (own, other) = OnFreshThread(() =>
        {
            IntraOpThreads.SetForCurrentThread(Distinct);
            int mine = IntraOpThreads.ForCurrentThread;
            // A thread that starts libtorch work afterwards gets the process default, which the call left alone.
            return (mine, OnFreshThread(() => IntraOpThreads.ForCurrentThread));
        });
        Assert.Equal(Distinct, own);
        Assert.NotEqual(Distinct, other);
        Assert.NotEqual(Distinct, IntraOpThreads.ForCurrentThread);
    }

    [Fact]
    public void ACountBelowOneIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => IntraOpThreads.SetForCurrentThread(0));
}

public class OnThreadOfItsOwnTests
{
    [Fact]
    public void WorkRunsOnAnotherThreadWithTheCountAskedAndTheCallerKeepsItsOwn()
    {
        int caller = IntraOpThreads.ForCurrentThread;
        var (thread, count) = IntraOpThreads.OnThreadOfItsOwn(() => (Environment.CurrentManagedThreadId, IntraOpThreads.ForCurrentThread), threads: 3);
        Assert.NotEqual(Environment.CurrentManagedThreadId, thread);
        Assert.Equal(3, count);
        Assert.Equal(caller, IntraOpThreads.ForCurrentThread);
        Assert.Equal(1, IntraOpThreads.OnThreadOfItsOwn(() => IntraOpThreads.ForCurrentThread));
    }

    [Fact]
    public void AFailureReachesTheCallerAsItself() =>
        Assert.Equal("no model", Assert.Throws<DirectoryNotFoundException>(() => IntraOpThreads.OnThreadOfItsOwn<int>(() => throw new DirectoryNotFoundException("no model"))).Message);
}
