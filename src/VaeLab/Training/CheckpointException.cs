namespace VaeLab.Training;

/// <summary>A checkpoint file cannot be used: corrupt, truncated, of another format, or of another architecture.</summary>
public sealed class CheckpointException : IOException
{
    /// <summary>Creates the error; the message starts with the file's path.</summary>
    public CheckpointException(string path, string problem, Exception? inner = null)
        : base($"Checkpoint '{path}': {problem}", inner)
    {
        Path = path;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }
}
