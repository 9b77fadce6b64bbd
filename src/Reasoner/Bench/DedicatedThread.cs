using Reasoner.Models;

namespace Reasoner.Cli.Bench;

/// <summary>
/// libtorch work a benchmark does outside the engine, on a thread of its own: when the thread ends, its team of libtorch
/// threads ends with it, so it does not stay beside the engine's (IntraOpThreads).
/// </summary>
static class DedicatedThread
{
    /// <param name="threads">Its intra-op threads; null: the engine's (<see cref="IntraOpThreads.EngineThreads"/>).</param>
    public static Task<T> Run<T>(Func<T> work, int? threads = null)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                IntraOpThreads.SetForCurrentThread(threads ?? IntraOpThreads.EngineThreads ?? IntraOpThreads.ForCurrentThread);
                done.SetResult(work());
            }
            catch (Exception error)
            {
                done.SetException(error);
            }
        }) { IsBackground = true, Name = "benchmark" };
        thread.Start();
        return done.Task;
    }
}
