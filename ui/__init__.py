"""App-side code of the gdviz Playground: figures, export, scenario state and Streamlit controls."""
