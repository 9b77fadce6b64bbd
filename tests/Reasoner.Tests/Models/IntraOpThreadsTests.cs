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

/// <summary>A reservation changes the process default: its test runs alone.</summary>
[CollectionDefinition(nameof(ProcessThreadDefaultCollection), DisableParallelization = true)]
public sealed class ProcessThreadDefaultCollection;

[Collection(nameof(ProcessThreadDefaultCollection))]
public class EngineReservationTests
{
    private static int OnFreshThread()
    {
        int count = 0;
        var thread = new Thread(() => count = IntraOpThreads.ForCurrentThread);
        thread.Start();
        thread.Join();
        return count;
    }

    [Fact]
    public void AReservationGivesTheEnginesTheDefaultAndEveryOtherThreadOneUntilDisposed()
    {
        int before = OnFreshThread();
        Assert.Null(IntraOpThreads.EngineThreads);
        using (IntraOpThreads.ReserveForEngines())
        {
            Assert.Equal(before, IntraOpThreads.EngineThreads);
            Assert.Equal(1, OnFreshThread());
            using (IntraOpThreads.ReserveForEngines()) Assert.Equal(before, IntraOpThreads.EngineThreads); // nested: the outer one holds
            Assert.Equal(1, OnFreshThread());
        }
        Assert.Null(IntraOpThreads.EngineThreads);
        Assert.Equal(before, OnFreshThread());
    }
}
