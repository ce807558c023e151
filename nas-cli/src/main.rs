//! The `nas` command.

mod cli;
mod commands;
mod session;
mod throughput;

use clap::Parser;
use cli::{Cli, Command};
use session::Session;

fn main() {
    nas_core::allocation::keep_large_buffers();
    let cli = Cli::parse();
    let result = Session::new(&cli).and_then(|session| match &cli.command {
        Command::Predict(a) => commands::predict::run(&session, a),
        Command::Features(a) => commands::features::run(&session, a),
        Command::Segment(a) => commands::pipeline::segment(&session, a),
        Command::Explain(a) => commands::pipeline::explain(&session, a),
        Command::Run(a) => commands::pipeline::run(&session, a),
        Command::Classwise(a) => commands::classwise::run(&session, a),
        Command::List(a) => commands::list::run(&session, a),
        Command::Bench(a) => commands::bench::run(&session, a),
        Command::Weights(a) => commands::weights::run(&session, a),
        Command::Sanity(a) => commands::sanity::run(&session, a),
    });
    if let Err(error) = result {
        eprintln!("error: {error}");
        std::process::exit(error.exit_code());
    }
}
