using Reasoner.Core.Storage;
using Reasoner.Core.Trees;
using Reasoner.Tests.Judging;

namespace Reasoner.Tests.Viewing;

/// <summary>Run folders the viewer tests serve: trees the tests build, written through the store as a search writes them.</summary>
internal static class ViewerRuns
{
    /// <summary>A step whose text is markup and script: the viewer must show it as text and run nothing.</summary>
    public const string HostileStep = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script> & </pre>";

    /// <summary>
    /// Index 0: <see cref="SampleTrees.Arithmetic"/>, with a hostile step under the root. Index 1: the hand-labelled arith tree of
    /// the data-quality tests (gold labels). Index 2: a failed tree. A PNG beside them, and a secret file beside the run folder.
    /// </summary>
    public static string Write(string parent)
    {
        var run = Path.Combine(parent, "run");
        using (var store = TreeStore.Open(run))
        {
            var arithmetic = SampleTrees.Arithmetic();
            SampleTrees.Step(arithmetic, arithmetic.Root, HostileStep, mc: 0.3, q: -0.1, visits: 1);
            store.Append(arithmetic);
            store.Append(DataQualityTests.Tree());
            store.Append(SampleTrees.Empty("p-failed", TreeStatus.Failed));
            store.Flush();
        }
        File.WriteAllBytes(Path.Combine(run, "curves.png"), [0x89, (byte)'P', (byte)'N', (byte)'G']);
        File.WriteAllText(Path.Combine(parent, "secret.txt"), "not for the viewer");
        return run;
    }
}
