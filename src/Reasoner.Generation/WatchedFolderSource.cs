using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Reasoner.Core.Datasets;
using Reasoner.Core.Problems;

namespace Reasoner.Generation;

/// <summary>
/// A folder where problem files (<c>*.jsonl</c>, any data-set format, guessed per file) appear while a service runs.
/// New files are noticed by file-system events and by a rescan every <c>rescan</c> (events can be lost, e.g. on
/// network drives). Each file is read once: when every problem of it is stored as a completed tree, its path goes
/// into <c>processedLog</c> in the run folder, and later runs pass it by. A file whose problems did not all complete
/// (a failed search, a stop) is read again by the next run, which skips the problems already stored. Writers should
/// create a file under another name and move it into the folder; a file changed within the last second waits.
/// </summary>
public sealed class WatchedFolderSource(string folder, string processedLog, TimeSpan rescan, ILogger logger, GenerationProgress progress)
    : IProblemSource
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(1);
    private readonly Lock _logLock = new();

    public string Name => $"watch:{folder}";

    public async IAsyncEnumerable<ProblemItem> ReadAsync([EnumeratorCancellation] CancellationToken cancel)
    {
        Directory.CreateDirectory(folder);
        var processed = File.Exists(processedLog) ? File.ReadAllLines(processedLog).ToHashSet(StringComparer.Ordinal) : [];
        var taken = new HashSet<string>(StringComparer.Ordinal);
        // One pending wake-up is enough: every wake-up rescans the whole folder.
        var wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        using var watcher = new FileSystemWatcher(folder, "*.jsonl");
        watcher.Created += (_, _) => wake.Writer.TryWrite(true);
        watcher.Renamed += (_, _) => wake.Writer.TryWrite(true);
        watcher.Changed += (_, _) => wake.Writer.TryWrite(true);
        watcher.EnableRaisingEvents = true;
        logger.LogInformation("watching {Folder} for problem files (*.jsonl)", folder);

        while (!cancel.IsCancellationRequested)
        {
            var unsettled = false;
            foreach (var path in Directory.EnumerateFiles(folder, "*.jsonl").Select(Path.GetFullPath).Order(StringComparer.Ordinal))
            {
                if (processed.Contains(path) || taken.Contains(path)) continue;
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(path) < Settle)
                {
                    unsettled = true;
                    continue;
                }
                taken.Add(path);
                var problems = Load(path);
                if (problems is null) continue;
                logger.LogInformation("taking {Count} problems from {File}", problems.Count, path);
                var file = new FileProgress(problems.Count, () => MarkProcessed(path));
                foreach (var problem in problems) yield return new ProblemItem(problem, file.Settle);
            }
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            wait.CancelAfter(unsettled ? Settle : rescan);
            try
            {
                await wake.Reader.WaitToReadAsync(wait.Token);
                wake.Reader.TryRead(out _);
            }
            catch (OperationCanceledException)
            {
                // The rescan interval passed, or the service is stopping (the loop condition tells which).
            }
        }
    }

    private IReadOnlyList<Problem>? Load(string path)
    {
        try
        {
            var loaded = DatasetFiles.Load(path, DatasetLoader.AutoFormat, logger);
            progress.AddInvalidLines(loaded.Skipped.Count);
            return loaded.Problems;
        }
        catch (Exception e) when (DatasetFiles.IsFileError(e))
        {
            logger.LogError("skipped problem file {File}: {Reason}", path, e.Message);
            return null;
        }
    }

    private void MarkProcessed(string path)
    {
        lock (_logLock) File.AppendAllLines(processedLog, [path]);
        logger.LogInformation("every problem of {File} is stored", path);
    }

    /// <summary>Counts a file's problems down; the file is done when all of them settled as completed.</summary>
    private sealed class FileProgress
    {
        private readonly Action _done;
        private int _left;
        private int _failed;

        public FileProgress(int problems, Action done)
        {
            _left = problems;
            _done = done;
            if (problems == 0) done();
        }

        public void Settle(bool completed)
        {
            if (!completed) Interlocked.Exchange(ref _failed, 1);
            if (Interlocked.Decrement(ref _left) == 0 && Volatile.Read(ref _failed) == 0) _done();
        }
    }
}
