using System.Text;
using System.Text.Json;
using VaeLab.IO;

namespace VaeLab.Experiments;

/// <summary>
/// A folder holding a sweep's results: <c>runs/ID.json</c>, one file per finished run written atomically
/// (a kill at any moment leaves either no file or a whole one, and a run id can only exist once), and
/// <c>checkpoints/ID.ckpt</c> for runs in progress. Merging stores is copying rows.
/// </summary>
public sealed class ResultStore
{
    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter<VaeLab.Training.TrainingParallelism>() },
    };

    /// <summary>Opens (and creates if needed) the store in <paramref name="folder"/>.</summary>
    public ResultStore(string folder)
    {
        Folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(RunsFolder);
        Directory.CreateDirectory(CheckpointsFolder);
    }

    /// <summary>The store's folder.</summary>
    public string Folder { get; }

    string RunsFolder => Path.Combine(Folder, "runs");

    string CheckpointsFolder => Path.Combine(Folder, "checkpoints");

    /// <summary>Where the row of run <paramref name="id"/> lives.</summary>
    public string RowPath(string id) => Path.Combine(RunsFolder, id + ".json");

    /// <summary>Where the checkpoint of run <paramref name="id"/> lives while it runs.</summary>
    public string CheckpointPath(string id) => Path.Combine(CheckpointsFolder, id + ".ckpt");

    /// <summary>Where the trained parameters of run <paramref name="id"/> are kept (for the report's pictures).</summary>
    public string ModelPath(string id) => Path.Combine(Folder, "models", id + ".model");

    /// <summary>Saves a finished run's parameters atomically.</summary>
    public void SaveModel(string id, VaeLab.Models.VariationalAutoencoder model) =>
        AtomicFile.Write(ModelPath(id), stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            model.save(writer);
        });

    /// <summary>Rebuilds a finished run's model from its configuration and saved parameters, or null when none were kept.</summary>
    public VaeLab.Models.VariationalAutoencoder? LoadModel(RunResult run)
    {
        string path = ModelPath(run.RunId);
        if (!File.Exists(path)) return null;
        var model = run.Config.Model.Build();
        using var reader = new BinaryReader(File.OpenRead(path));
        model.load(reader);
        model.eval();
        return model;
    }

    /// <summary>Whether run <paramref name="id"/> has finished.</summary>
    public bool Contains(string id) => File.Exists(RowPath(id));

    /// <summary>Writes a finished run's row atomically.</summary>
    public void Add(RunResult result) =>
        AtomicFile.WriteAllBytes(RowPath(result.RunId), JsonSerializer.SerializeToUtf8Bytes(result, Json));

    /// <summary>Every finished run, ordered by id.</summary>
    /// <exception cref="FormatException">A row file is not a valid result (names the file).</exception>
    public IReadOnlyList<RunResult> Load() =>
        Directory.GetFiles(RunsFolder, "*.json").Order(StringComparer.Ordinal).Select(Read).ToArray();

    /// <summary>Copies every row of <paramref name="other"/> that this store lacks, with its saved model; returns how many rows were added.</summary>
    /// <exception cref="InvalidDataException">The same run id holds different results in the two stores.</exception>
    public int MergeFrom(ResultStore other)
    {
        int added = 0;
        foreach (RunResult row in other.Load())
        {
            if (Contains(row.RunId))
            {
                RunResult mine = Read(RowPath(row.RunId));
                if (mine.TestElboNats != row.TestElboNats || mine.KlNats != row.KlNats)
                    throw new InvalidDataException($"Run {row.RunId} has different results in '{Folder}' and '{other.Folder}'.");
                continue;
            }
            // The trained model travels with its row (the report draws pictures from it); the row is the commit point.
            if (File.Exists(other.ModelPath(row.RunId)) && !File.Exists(ModelPath(row.RunId)))
                AtomicFile.Write(ModelPath(row.RunId), stream => { using var source = File.OpenRead(other.ModelPath(row.RunId)); source.CopyTo(stream); });
            Add(row);
            added++;
        }
        return added;
    }

    static RunResult Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<RunResult>(File.ReadAllBytes(path), Json) ?? throw new FormatException($"Result file '{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"Result file '{path}' is not a valid VaeLab result: {e.Message}", e);
        }
    }
}
