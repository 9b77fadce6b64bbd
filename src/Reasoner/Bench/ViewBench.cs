using System.Globalization;
using Reasoner.Cli.Viewing;
using Reasoner.Core.Prompts;
using Reasoner.Core.Problems;
using Reasoner.Core.Storage;
using Reasoner.Core.Trees;

namespace Reasoner.Cli.Bench;

/// <summary>One tree size as <c>bench view</c> measured it: the tree page's JSON and its first render, median over the repeats.</summary>
sealed record ViewBenchResult(int Nodes, long JsonBytes, double FirstRenderMs, double ToggleMs, double FitAllMs);

/// <summary>
/// <c>bench view</c>: how fast the tree page first draws a large tree in headless Chromium, beside a small one in the same
/// run. First render is the time from navigation to the first frame drawn: fetching the tree's JSON, laying it out and drawing
/// it. Toggle is collapsing and re-expanding the root's first child; fit-all is drawing every node at the zoom that shows them all.
/// </summary>
static class ViewBench
{
    /// <summary>A seeded tree of <paramref name="nodes"/> nodes, shaped like a wide search (2–4 children each, breadth first), with every score set.</summary>
    public static PreferenceTree SyntheticTree(int nodes, int seed)
    {
        var random = new Random(seed);
        var tree = new PreferenceTree
        {
            Problem = new Problem($"synthetic-{nodes}", "arith", "Zoe has 6 pencils. She buys 4 more pencils. How many pencils does Zoe have now?", "10", AnswerKind.Number),
            ModelId = "synthetic",
            Search = new SearchSettings(AlgorithmNames.Mcts, new Dictionary<string, string> { ["world.solvePrompt"] = "bare" }),
            Seed = seed,
        };
        var frontier = new Queue<TreeNode>([tree.Root]);
        while (tree.Nodes.Count < nodes && frontier.TryDequeue(out var parent))
        {
            int children = random.Next(2, 5);
            for (int c = 0; c < children && tree.Nodes.Count < nodes; c++)
            {
                int a = random.Next(1, 50), b = random.Next(1, 50);
                var node = tree.AddChild(parent, $"She has {a} pencils and gets {b} more, so she has {a} + {b} = {a + b} pencils.", 24, -random.NextDouble() * 10, random.NextDouble());
                (node.Visits, node.Q, node.SelfEval, node.MonteCarloValue) = (random.Next(0, 40), random.NextDouble() * 2 - 1, random.NextDouble(), random.NextDouble());
                if (node.Depth >= 8 || random.NextDouble() < 0.1)
                {
                    (node.IsTerminal, node.Answer) = (true, (a + b).ToString(CultureInfo.InvariantCulture));
                    (node.IsCorrect, node.Outcome) = random.NextDouble() < 0.3 ? (true, 1.0) : (false, 0.0);
                }
                else frontier.Enqueue(node);
            }
        }
        return tree;
    }

    public static async Task<IReadOnlyList<ViewBenchResult>> RunAsync(IReadOnlyList<int> sizes, int repeats, PromptLibrary prompts, Action<string> progress, CancellationToken cancel)
    {
        var folder = Directory.CreateTempSubdirectory("reasoner-bench-view-").FullName;
        try
        {
            using (var store = TreeStore.Open(folder))
            {
                foreach (var size in sizes) store.Append(SyntheticTree(size, seed: size));
                store.Flush();
            }
            await using var server = await RunViewerServer.StartAsync(folder, prompts, [], cancel: cancel);
            await using var chromium = await HeadlessChromium.LaunchAsync();
            using var http = new HttpClient();
            var results = new List<ViewBenchResult>();
            for (int i = 0; i < sizes.Count; i++)
            {
                var bytes = (await http.GetByteArrayAsync(new Uri(server.BaseUrl, $"api/trees/{i}"), cancel)).LongLength;
                var first = new List<double>();
                var toggle = new List<double>();
                var fit = new List<double>();
                // One untimed load first: the browser's and the server's caches warm, as on a user's second click.
                for (int r = 0; r <= repeats; r++)
                {
                    progress($"{sizes[i]:N0} nodes, load {r}/{repeats}");
                    var page = await chromium.OpenAsync(new Uri(server.BaseUrl, $"tree/{i}"));
                    var firstMs = double.Parse((await page.GetAttributeAsync("body", "data-first-render-ms"))!, CultureInfo.InvariantCulture);
                    var toggleMs = await page.EvaluateAsync<double>("""
                        () => { const t = performance.now(); const v = window.treeView; v.toggle(1); v.draw(); v.toggle(1); v.draw(); return performance.now() - t; }
                        """);
                    var fitMs = await page.EvaluateAsync<double>("() => { const t = performance.now(); window.treeView.fitAll(); return performance.now() - t; }");
                    await page.CloseAsync();
                    if (r == 0) continue;
                    first.Add(firstMs); toggle.Add(toggleMs); fit.Add(fitMs);
                }
                results.Add(new ViewBenchResult(sizes[i], bytes, Median(first), Median(toggle), Median(fit)));
            }
            return results;
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
